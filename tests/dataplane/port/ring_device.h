// A net_ring ethdev made for one test and removed after it (PortSet closes and releases ports,
// so every test needs a fresh device), and the mbuf pool the port tests share.
#pragma once

#include <rte_dev.h>
#include <rte_mbuf.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace t38relay::testing {

class RingDevice {
 public:
  RingDevice() : name_(absl::StrCat("net_ring_t", next_++)) {
    ok_ = rte_eal_hotplug_add("vdev", name_.c_str(), "") == 0;
    EXPECT_TRUE(ok_) << "cannot create " << name_;
  }
  ~RingDevice() { (void)rte_eal_hotplug_remove("vdev", name_.c_str()); }
  RingDevice(const RingDevice&) = delete;
  RingDevice& operator=(const RingDevice&) = delete;

  const std::string& name() const { return name_; }
  bool ok() const { return ok_; }

 private:
  static inline int next_ = 0;
  std::string name_;
  bool ok_ = false;
};

// One pool for the whole test program (EAL must be up).
inline rte_mempool* TestPool() {
  static rte_mempool* pool = rte_pktmbuf_pool_create("port_test_pool", 4095, 0, 0,
                                                     RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
  return pool;
}

}  // namespace t38relay::testing
