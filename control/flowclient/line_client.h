// LineClient: the client side of a JSON-lines socket (flow socket, control socket): blocking
// request/reply matched by id with a timeout, other lines (events) handed to the caller.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace t38relay::control {

class LineClient {
 public:
  struct Options {
    std::string path;
    int reply_timeout_ms = 2000;
    // Longest line accepted from the server; longer breaks the connection.
    size_t max_line = size_t{64} << 20;
  };
  // Receives each line that is not the awaited reply (an event, a reply with another id). An
  // error breaks the connection and is returned by Call/ReadAvailable.
  using LineSink = std::function<absl::Status(nlohmann::json line)>;

  // Unavailable "<errno text>" (the caller adds what it tried to reach).
  static absl::StatusOr<std::unique_ptr<LineClient>> Connect(Options options);
  ~LineClient();
  LineClient(const LineClient&) = delete;
  LineClient& operator=(const LineClient&) = delete;

  // A fresh request id (1, 2, ...) for the next Call.
  uint64_t NextId() { return next_id_++; }
  // Sends `line` (one request ending with "\n", carrying `id`) and waits for the line whose "id"
  // is `id` (or an error with a null id: the server refused the request before reading its id):
  // the reply object as received (ok true or false). Unavailable on EOF, I/O errors, malformed
  // lines and timeouts; each of these closes the connection (a late reply would otherwise be
  // taken for the next request's).
  absl::StatusOr<nlohmann::json> Call(uint64_t id, std::string_view line, const LineSink& other);
  // Reads what is there without blocking; complete lines go to `other`.
  absl::Status ReadAvailable(const LineSink& other);

  // -1 once closed.
  int fd() const { return fd_; }
  bool connected() const { return fd_ >= 0; }
  const std::string& path() const { return options_.path; }
  void Close();

 private:
  LineClient(Options options, int fd);
  absl::Status Send(std::string_view data);
  // Parses every complete line buffered; stops after the awaited id when `awaited` is set.
  absl::Status DrainLines(std::optional<uint64_t> awaited, std::optional<nlohmann::json>* reply,
                          const LineSink& other);
  absl::Status Fail(std::string message);

  Options options_;
  int fd_ = -1;
  uint64_t next_id_ = 1;
  std::string in_;
};

}  // namespace t38relay::control
