// The roles' publish-to-acknowledgement latency histogram (seconds), with
// one set of buckets from 0.5 ms to 10 s, registered in the role's registry.
#pragma once

#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <string>

namespace gsoc {

inline prometheus::Histogram* AddAckSecondsHistogram(prometheus::Registry& registry,
                                                     const std::string& name,
                                                     const std::string& help) {
  return &prometheus::BuildHistogram().Name(name).Help(help).Register(registry).Add(
      {}, prometheus::Histogram::BucketBoundaries{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                  0.1, 0.25, 0.5, 1, 2.5, 5, 10});
}

}  // namespace gsoc
