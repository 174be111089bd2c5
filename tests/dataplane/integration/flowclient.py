"""Client for the dataplane's flow socket (protocol v1: one JSON object per line): requests with
incrementing ids, replies matched by id, pushed events queued apart.

    with FlowClient(path) as flow:
        leg = flow.request("leg.add", transport="plain", remote={"ip": ..., "port": 6000})
        flow.request("events.subscribe")
        event = flow.wait_event("leg.latched", leg=leg["leg"], timeout=5)
"""
import collections
import json
import select
import socket
import time


class FlowError(Exception):
    """An ok:false reply."""

    def __init__(self, code, message, reply=None):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.reply = reply


class FlowClient:
    def __init__(self, path, timeout=5.0):
        self.path = path
        self.timeout = timeout
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.sock.setblocking(False)
        self.next_id = 1
        self._buffer = b""
        self.events = collections.deque()   # events not yet taken by wait_event
        self.replies = {}                   # id -> reply, for replies read while waiting for another
        self.unmatched = collections.deque()  # replies with id null (bad json, too large)
        self.log = []                       # every message received, in order

    # --- raw I/O ------------------------------------------------------------------------------
    def send_raw(self, data):
        """Sends bytes as they are (garbage tests); a line needs its own b"\\n"."""
        view = memoryview(data)
        deadline = time.monotonic() + self.timeout
        while view:
            _, writable, _ = select.select([], [self.sock], [], max(0, deadline - time.monotonic()))
            if not writable:
                raise TimeoutError(f"flow socket: could not send within {self.timeout} s")
            try:
                sent = self.sock.send(view)
            except BlockingIOError:
                continue
            view = view[sent:]

    def _read_message(self, deadline):
        """Next JSON message from the socket, or None at the deadline."""
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            readable, _, _ = select.select([self.sock], [], [], remaining)
            if not readable:
                return None
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("flow socket closed by the dataplane"
                                      + (f" (unread: {self._buffer[:200]!r})" if self._buffer else ""))
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        try:
            message = json.loads(line)
        except ValueError as e:
            raise ConnectionError(f"flow socket sent a line that is not JSON ({e}): {line[:200]!r}")
        if not isinstance(message, dict):
            raise ConnectionError(f"flow socket sent a non-object: {line[:200]!r}")
        self.log.append(message)
        return message

    def _dispatch(self, message):
        if "event" in message:
            self.events.append(message)
        elif message.get("id") is None:
            self.unmatched.append(message)
        else:
            self.replies[message["id"]] = message

    def pump(self, timeout=0.0):
        """Reads whatever arrives within `timeout` into the queues."""
        deadline = time.monotonic() + timeout
        while True:
            message = self._read_message(deadline)
            if message is None:
                return
            self._dispatch(message)

    # --- requests -----------------------------------------------------------------------------
    def send_request(self, cmd, **args):
        """Sends a request; returns its id (see wait_reply)."""
        request_id = self.next_id
        self.next_id += 1
        request = {"v": 1, "id": request_id, "cmd": cmd}
        request.update(args)
        self.send_raw(json.dumps(request).encode() + b"\n")
        return request_id

    def wait_reply(self, request_id, timeout=None):
        """The reply with this id (ok or not), raising TimeoutError when none comes."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while request_id not in self.replies:
            message = self._read_message(deadline)
            if message is None:
                raise TimeoutError(f"flow socket: no reply to id {request_id}")
            self._dispatch(message)
        return self.replies.pop(request_id)

    def request(self, cmd, timeout=None, **args):
        """Sends {"v":1,"id":N,"cmd":cmd,...args}; returns the reply dict, or raises FlowError."""
        reply = self.wait_reply(self.send_request(cmd, **args), timeout)
        if reply.get("ok") is not True:
            raise FlowError(reply.get("error"), reply.get("message"), reply)
        return reply

    def wait_unmatched(self, timeout=None):
        """The next reply with id null (errors for lines without a usable id)."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while not self.unmatched:
            message = self._read_message(deadline)
            if message is None:
                raise TimeoutError("flow socket: no reply with id null")
            self._dispatch(message)
        return self.unmatched.popleft()

    # --- events -------------------------------------------------------------------------------
    def wait_event(self, name, leg=None, timeout=10.0):
        """Takes the first queued or arriving event `name` (for `leg` when given); other events stay
        queued. Raises TimeoutError listing what did arrive."""
        deadline = time.monotonic() + timeout
        while True:
            for event in self.events:
                if event.get("event") == name and (leg is None or event.get("leg") == leg):
                    self.events.remove(event)
                    return event
            message = self._read_message(deadline)
            if message is None:
                seen = [e for e in self.log if "event" in e]
                raise TimeoutError(f"no event {name} for leg {leg} within {timeout} s; "
                                   f"events seen: {seen}")
            self._dispatch(message)

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
