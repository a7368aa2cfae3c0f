#include "engine/metrics/metrics_server.h"

#include <stdexcept>

namespace gsoc {

MetricsServer::MetricsServer(const std::string& address, uint16_t port) {
  const bool v6 = address.find(':') != std::string::npos;
  const std::string bind = (v6 ? "[" + address + "]" : address) + ":" + std::to_string(port);
  try {
    exposer_ = std::make_unique<prometheus::Exposer>(bind, /*num_threads=*/1);
  } catch (const std::exception& e) {
    throw std::runtime_error("metrics: cannot listen on " + bind + ": " + e.what());
  }
}

MetricsServer::~MetricsServer() = default;

void MetricsServer::Register(std::shared_ptr<prometheus::Collectable> collectable) {
  exposer_->RegisterCollectable(collectable);
  owned_.push_back(std::move(collectable));
}

uint16_t MetricsServer::port() const {
  auto ports = exposer_->GetListeningPorts();
  return ports.empty() ? 0 : static_cast<uint16_t>(ports.front());
}

}  // namespace gsoc
