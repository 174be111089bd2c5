// The EAL starts on this machine (hugepages or --no-huge) and a net_ring port loops a burst back.
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include <cstring>

#include "gtest/gtest.h"
#include "tests/eal_support.h"

namespace t38relay::testing {
namespace {

TEST(EalSmokeTest, RingPortLoopsBurstBack) {
  ASSERT_TRUE(StartEal({"--vdev=net_ring0"}));
  ASSERT_EQ(rte_eth_dev_count_avail(), 1u);
  const uint16_t port = 0;

  rte_mempool* pool = rte_pktmbuf_pool_create("smoke", 1023, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
                                              SOCKET_ID_ANY);
  ASSERT_NE(pool, nullptr);
  rte_eth_conf conf{};
  ASSERT_EQ(rte_eth_dev_configure(port, 1, 1, &conf), 0);
  ASSERT_EQ(rte_eth_rx_queue_setup(port, 0, 256, SOCKET_ID_ANY, nullptr, pool), 0);
  ASSERT_EQ(rte_eth_tx_queue_setup(port, 0, 256, SOCKET_ID_ANY, nullptr), 0);
  ASSERT_EQ(rte_eth_dev_start(port), 0);

  constexpr uint16_t kBurst = 32;
  rte_mbuf* out[kBurst];
  ASSERT_EQ(rte_pktmbuf_alloc_bulk(pool, out, kBurst), 0);
  for (uint16_t i = 0; i < kBurst; ++i) {
    char* p = rte_pktmbuf_append(out[i], 64);
    ASSERT_NE(p, nullptr);
    std::memset(p, i, 64);
  }
  ASSERT_EQ(rte_eth_tx_burst(port, 0, out, kBurst), kBurst);

  rte_mbuf* in[kBurst];
  const uint16_t n = rte_eth_rx_burst(port, 0, in, kBurst);
  ASSERT_EQ(n, kBurst);
  for (uint16_t i = 0; i < n; ++i) {
    EXPECT_EQ(rte_pktmbuf_pkt_len(in[i]), 64u);
    EXPECT_EQ(*rte_pktmbuf_mtod(in[i], uint8_t*), i);
  }
  rte_pktmbuf_free_bulk(in, n);
  EXPECT_EQ(rte_eth_dev_stop(port), 0);
  rte_eth_dev_close(port);
}

}  // namespace
}  // namespace t38relay::testing
