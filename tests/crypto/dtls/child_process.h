// Test helper: a foreign peer program (openssl, gnutls) run as a child process with its standard
// input and output on pipes; killed when the object goes away.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace t38relay::crypto::testing {

class ChildProcess {
 public:
  // Starts argv with stdin and stdout on pipes; stderr joins stdout.
  explicit ChildProcess(const std::vector<std::string>& argv) {
    int in[2], out[2];
    if (pipe(in) != 0 || pipe(out) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      dup2(in[0], 0);
      dup2(out[1], 1);
      dup2(out[1], 2);
      close(in[1]);
      close(out[0]);
      std::vector<char*> args;
      for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      execvp(args[0], args.data());
      _exit(127);
    }
    close(in[0]);
    close(out[1]);
    stdin_fd_ = in[1];
    stdout_fd_ = out[0];
    fcntl(stdout_fd_, F_SETFL, O_NONBLOCK);
  }

  ~ChildProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (stdin_fd_ >= 0) close(stdin_fd_);
    if (stdout_fd_ >= 0) close(stdout_fd_);
  }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  bool started() const { return pid_ > 0; }
  int stdout_fd() const { return stdout_fd_; }
  void Write(std::string_view text) {
    if (write(stdin_fd_, text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
      output_ += "[test: write to child stdin failed]";
    }
  }
  // Appends whatever the child has printed so far to output().
  void Drain() {
    char buf[4096];
    ssize_t n;
    while ((n = read(stdout_fd_, buf, sizeof(buf))) > 0) output_.append(buf, n);
  }
  const std::string& output() const { return output_; }

  // Waits until the output contains `text`; false after `timeout`.
  bool WaitFor(std::string_view text, std::chrono::milliseconds timeout) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (true) {
      Drain();
      if (output_.find(text) != std::string::npos) return true;
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          end - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd p{stdout_fd_, POLLIN, 0};
      poll(&p, 1, static_cast<int>(std::min<int64_t>(left.count(), 100)));
    }
  }

 private:
  pid_t pid_ = -1;
  int stdin_fd_ = -1;
  int stdout_fd_ = -1;
  std::string output_;
};

}  // namespace t38relay::crypto::testing
