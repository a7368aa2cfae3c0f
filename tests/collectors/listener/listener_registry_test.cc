// Every listener kind the config loader accepts has an implementation
// linked into the listeners, and an unknown one is refused by name.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <sstream>
#include <stdexcept>
#include <string>

#include "collectors/listener/listener.h"
#include "engine/config/config_registry.h"

namespace gsoc {
namespace {

TEST(ListenerRegistryTest, EveryConfigKindHasAnImplementation) {
  std::istringstream names(ListenerKindNames());
  std::string name;
  int kinds = 0;
  while (std::getline(names, name, ',')) {
    while (!name.empty() && name.front() == ' ') name.erase(0, 1);
    EXPECT_TRUE(HasListenerImplementation(name)) << name;
    ++kinds;
  }
  EXPECT_GE(kinds, 4);
}

TEST(ListenerRegistryTest, AnUnknownTypeIsRefusedByName) {
  boost::asio::io_context io;
  ListenerContext context;
  context.config.name = "k";
  context.config.type = "kafka";
  try {
    MakeListener(io, std::move(context));
    FAIL() << "no exception";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("'kafka' has no implementation"), std::string::npos)
        << error.what();
  }
}

}  // namespace
}  // namespace gsoc
