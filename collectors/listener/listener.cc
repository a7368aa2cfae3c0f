#include "collectors/listener/listener.h"

#include <chrono>
#include <map>
#include <stdexcept>

namespace gsoc {

int64_t NowNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

namespace {

std::map<std::string, ListenerFactory, std::less<>>& Factories() {
  static std::map<std::string, ListenerFactory, std::less<>> factories;
  return factories;
}

}  // namespace

ListenerRegistration::ListenerRegistration(std::string_view type, ListenerFactory make) {
  Factories().emplace(std::string(type), make);
}

bool HasListenerImplementation(std::string_view type) { return Factories().count(type) != 0; }

std::unique_ptr<Listener> MakeListener(boost::asio::io_context& io, ListenerContext context) {
  const auto it = Factories().find(context.config.type);
  if (it == Factories().end()) {
    throw std::runtime_error("listener " + context.config.name + ": type '" + context.config.type +
                             "' has no implementation in this build");
  }
  return it->second(io, std::move(context));
}

}  // namespace gsoc
