// Atomic writes and polling reads of the SDP rendezvous files.
#include "tools/fax/rendezvous.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <thread>

#include "absl/strings/str_cat.h"

namespace t38relay::tools::fax {

absl::Status WriteFileAtomically(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  const int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return absl::InvalidArgumentError(absl::StrCat("cannot write ", tmp, ": ",
                                                   std::strerror(errno)));
  }
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int error = errno;
      close(fd);
      unlink(tmp.c_str());
      return absl::InvalidArgumentError(absl::StrCat("cannot write ", tmp, ": ",
                                                     std::strerror(error)));
    }
    done += static_cast<size_t>(n);
  }
  close(fd);
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int error = errno;
    unlink(tmp.c_str());
    return absl::InvalidArgumentError(absl::StrCat("cannot rename ", tmp, " to ", path, ": ",
                                                   std::strerror(error)));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> WaitForFile(const std::string& path, std::chrono::milliseconds wait,
                                        const std::function<bool()>& cancelled) {
  const auto deadline = std::chrono::steady_clock::now() + wait;
  for (;;) {
    const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      std::string text;
      char buffer[4096];
      ssize_t n;
      while ((n = read(fd, buffer, sizeof(buffer))) > 0 || (n < 0 && errno == EINTR)) {
        if (n < 0) continue;
        text.append(buffer, static_cast<size_t>(n));
        if (text.size() > kMaxRendezvousBytes) {
          close(fd);
          return absl::InvalidArgumentError(absl::StrCat(
              path, ": larger than ", kMaxRendezvousBytes, " bytes; not an SDP"));
        }
      }
      const int error = errno;
      close(fd);
      if (n < 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("cannot read ", path, ": ", std::strerror(error)));
      }
      return text;
    }
    if (errno != ENOENT) {
      return absl::InvalidArgumentError(
          absl::StrCat("cannot open ", path, ": ", std::strerror(errno)));
    }
    if (cancelled && cancelled()) return absl::CancelledError("interrupted");
    if (std::chrono::steady_clock::now() >= deadline) {
      return absl::DeadlineExceededError(absl::StrCat(
          path, " did not appear within ", wait.count() / 1000.0, " s (--sdp-wait)"));
    }
    std::this_thread::sleep_for(kRendezvousPoll);
  }
}

}  // namespace t38relay::tools::fax
