#include "capture/relay.hpp"

#include <openssl/ssl.h>
#include <sys/socket.h>
#include <openssl/x509.h>

#include <asio.hpp>
#include <asio/ssl.hpp>
#include <atomic>
#include <charconv>
#include <set>
#include <variant>

namespace sc::capture {

using asio::ip::tcp;
using schema::Direction;

uint64_t wall_clock_ns() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count());
}

std::string HostPort::to_string() const {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

Result<HostPort> parse_host_port(std::string_view text) {
  HostPort hp;
  std::string_view port = text;
  if (!text.empty() && text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':')
      return make_error("'" + std::string(text) + "': expected [ADDRESS]:PORT");
    hp.host = std::string(text.substr(1, close - 1));
    port = text.substr(close + 2);
  } else if (const size_t colon = text.rfind(':'); colon != std::string_view::npos) {
    if (text.find(':') != colon) return make_error("'" + std::string(text) + "': write an IPv6 address as [ADDRESS]:PORT");
    hp.host = std::string(text.substr(0, colon));
    port = text.substr(colon + 1);
  }
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535)
    return make_error("'" + std::string(text) + "': the port must be a number from 1 to 65535");
  hp.port = static_cast<uint16_t>(value);
  return hp;
}

namespace {

using TlsStream = asio::ssl::stream<tcp::socket>;

Endpoint to_endpoint(const tcp::endpoint& e) {
  Endpoint out;
  out.port = e.port();
  asio::ip::address a = e.address();
  if (a.is_v6() && a.to_v6().is_v4_mapped()) a = asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6());
  if (a.is_v4()) {
    const auto b = a.to_v4().to_bytes();
    std::copy(b.begin(), b.end(), out.addr.begin());
  } else {
    const auto b = a.to_v6().to_bytes();
    std::copy(b.begin(), b.end(), out.addr.begin());
    out.v6 = true;
  }
  return out;
}

bool is_ip_literal(const std::string& host) {
  asio::error_code ec;
  (void)asio::ip::make_address(host, ec);
  return !ec;
}

// One leg of a relayed connection: a TCP socket, with TLS over it once made so.
class Leg {
 public:
  explicit Leg(tcp::socket s) : plain_(std::move(s)) {}
  explicit Leg(asio::io_context& io) : plain_(io) {}
  void make_tls(asio::ssl::context& ctx) { tls_.emplace(std::move(plain_), ctx); }
  tcp::socket& socket() { return tls_ ? tls_->next_layer() : plain_; }
  TlsStream* tls() { return tls_ ? &*tls_ : nullptr; }

  template <class Buffer, class Handler>
  void read_some(const Buffer& b, Handler&& h) {
    if (tls_) tls_->async_read_some(b, std::forward<Handler>(h));
    else plain_.async_read_some(b, std::forward<Handler>(h));
  }
  template <class Buffer, class Handler>
  void write_all(const Buffer& b, Handler&& h) {
    if (tls_) asio::async_write(*tls_, b, std::forward<Handler>(h));
    else asio::async_write(plain_, b, std::forward<Handler>(h));
  }
  std::string tls_version() {
    return tls_ ? SSL_get_version(tls_->native_handle()) : "";
  }
  std::string sni() {
    if (!tls_) return "";
    const char* name = SSL_get_servername(tls_->native_handle(), TLSEXT_NAMETYPE_host_name);
    return name ? name : "";
  }
  // Sends FIN: the peer reads end of stream once what was written has arrived.
  void half_close() {
    asio::error_code ignored;
    socket().shutdown(tcp::socket::shutdown_send, ignored);
  }
  // Closes; with `reset` the peer gets a RST instead of a FIN.
  void close(bool reset) {
    asio::error_code ignored;
    tcp::socket& s = socket();
    if (!s.is_open()) return;
    if (reset) s.set_option(asio::socket_base::linger(true, 0), ignored);
    s.close(ignored);
  }

 private:
  tcp::socket plain_;
  std::optional<TlsStream> tls_;
};

bool is_end_of_stream(const asio::error_code& ec) {
  return ec == asio::error::eof || ec == asio::ssl::error::stream_truncated;
}

std::string verify_failure(TlsStream& s) {
  const long r = SSL_get_verify_result(s.native_handle());
  if (r == X509_V_OK) return "";
  return X509_verify_cert_error_string(r);
}

}  // namespace

struct Relay::Impl {
  struct Conn;

  explicit Impl(RelayOptions o)
      : options(std::move(o)),
        towards_clients(asio::ssl::context::tls_server),
        towards_server(asio::ssl::context::tls_client),
        resolver(io) {}

  Result<void> setup();
  void accept(tcp::acceptor& acceptor, bool tls);
  void stop_now();

  RelayOptions options;
  RelayObserver* observer = nullptr;
  asio::io_context io;
  asio::ssl::context towards_clients, towards_server;
  tcp::resolver resolver;
  std::optional<tcp::acceptor> plain_acceptor, tls_acceptor;
  std::set<std::shared_ptr<Conn>> conns;
  uint32_t next_id = 1;
  bool stopping = false;
  std::atomic<uint64_t> accepted{0}, refused{0}, open{0}, bytes[2] = {0, 0};
};

struct Relay::Impl::Conn : std::enable_shared_from_this<Conn> {
  Conn(Impl& r, tcp::socket s, bool tls_client)
      : relay(r), client(std::move(s)), server(r.io), timer(r.io) {
    info.id = r.next_id++;
    info.client_tls = tls_client;
    info.accepted_ns = wall_clock_ns();
    asio::error_code ec;
    const auto peer = client.socket().remote_endpoint(ec);
    if (!ec) info.client = to_endpoint(peer);
    buffers[0].resize(r.options.buffer_bytes);
    buffers[1].resize(r.options.buffer_bytes);
  }

  Leg& source(int d) { return d == 0 ? client : server; }
  Leg& sink(int d) { return d == 0 ? server : client; }
  std::string who() const { return "client " + info.client.to_string(); }

  void start() {
    arm_timeout();
    if (!info.client_tls) return connect_upstream();
    client.make_tls(relay.towards_clients);
    client.tls()->async_handshake(asio::ssl::stream_base::server, [self = shared_from_this()](asio::error_code ec) {
      if (self->closed) return;
      if (ec) return self->refuse("TLS handshake with the client failed: " + ec.message());
      self->connect_upstream();
    });
  }

  void arm_timeout() {
    timer.expires_after(relay.options.connect_timeout);
    timer.async_wait([self = shared_from_this()](asio::error_code ec) {
      if (ec || self->closed || self->opened) return;
      self->refuse("no connection to the server within " +
                   std::to_string(self->relay.options.connect_timeout.count()) + " ms");
    });
  }

  void connect_upstream() {
    const bool want_tls = info.client_tls ? relay.options.tls_upstream.has_value() : !relay.options.plain_upstream;
    upstream = want_tls ? *relay.options.tls_upstream : *relay.options.plain_upstream;
    info.server_tls = want_tls;
    relay.resolver.async_resolve(
        upstream.host, std::to_string(upstream.port),
        [self = shared_from_this()](asio::error_code ec, tcp::resolver::results_type results) {
          if (self->closed) return;
          if (ec) return self->refuse("cannot resolve " + self->upstream.host + ": " + ec.message());
          asio::async_connect(self->server.socket(), results,
                              [self](asio::error_code ec2, const tcp::endpoint& ep) {
                                if (self->closed) return;
                                if (ec2)
                                  return self->refuse("cannot connect to " + self->upstream.to_string() + ": " +
                                                      ec2.message());
                                self->info.server = to_endpoint(ep);
                                self->server_connected();
                              });
        });
  }

  void server_connected() {
    asio::error_code ignored;
    client.socket().set_option(tcp::no_delay(true), ignored);
    server.socket().set_option(tcp::no_delay(true), ignored);
    if (!info.server_tls) return both_up();
    server.make_tls(relay.towards_server);
    TlsStream& s = *server.tls();
    const UpstreamTls& t = relay.options.upstream_tls;
    const std::string name = t.server_name.empty() ? upstream.host : t.server_name;
    if (!is_ip_literal(name)) SSL_set_tlsext_host_name(s.native_handle(), name.c_str());
    if (t.verify) {
      s.set_verify_mode(asio::ssl::verify_peer);
      s.set_verify_callback(asio::ssl::host_name_verification(name));
    } else {
      s.set_verify_mode(asio::ssl::verify_none);
    }
    s.async_handshake(asio::ssl::stream_base::client, [self = shared_from_this(), name](asio::error_code ec) {
      if (self->closed) return;
      if (ec) {
        const std::string why = verify_failure(*self->server.tls());
        if (!why.empty())
          return self->refuse("the certificate of " + self->upstream.to_string() + " was refused: " + why +
                              " (expected name " + name + ")");
        return self->refuse("TLS handshake with " + self->upstream.to_string() + " failed: " + ec.message());
      }
      self->both_up();
    });
  }

  void both_up() {
    opened = true;
    timer.cancel();
    info.client_tls_version = client.tls_version();
    info.client_sni = client.sni();
    info.server_tls_version = server.tls_version();
    ++relay.open;
    relay.observer->on_open(info, wall_clock_ns());
    read(0);
    read(1);
  }

  void read(int d) {
    source(d).read_some(asio::buffer(buffers[d]), [self = shared_from_this(), d](asio::error_code ec, size_t n) {
      self->on_read(d, ec, n);
    });
  }

  void on_read(int d, asio::error_code ec, size_t n) {
    if (closed) return;
    if (n == 0) return end_direction(d, ec);
    const auto dir = d == 0 ? Direction::C2S : Direction::S2C;
    relay.observer->on_bytes(info.id, dir, std::span<const uint8_t>(buffers[d].data(), n), wall_clock_ns());
    relay.bytes[d] += n;
    sink(d).write_all(asio::buffer(buffers[d].data(), n), [self = shared_from_this(), d, ec](asio::error_code wec, size_t) {
      if (self->closed) return;
      if (wec) return self->cut(d == 0 ? "server" : "client", "write failed: " + wec.message());
      if (ec) return self->end_direction(d, ec);
      self->read(d);
    });
  }

  void end_direction(int d, const asio::error_code& ec) {
    const char* side = d == 0 ? "client" : "server";
    if (ec && !is_end_of_stream(ec)) return cut(side, ec.message());
    ended[d] = true;
    sink(d).half_close();
    if (ended[0] && ended[1]) return finish(std::string(first_end ? first_end : side) + " closed first", false, std::nullopt);
    first_end = side;
    timer.expires_after(relay.options.linger);
    timer.async_wait([self = shared_from_this()](asio::error_code tec) {
      if (tec || self->closed) return;
      self->finish(std::string(self->first_end) + " closed; the other side did not close within the linger time",
                   false, std::nullopt);
    });
  }

  // An error on one side: the other side is reset too, once what it had already
  // sent (waiting in our receive buffer) is recorded: a peer that sent its last
  // words just as the other one vanished is recorded saying them.
  void cut(const char* side, const std::string& why) {
    const int other = side[0] == 'c' ? 1 : 0;
    drain(other);
    finish(std::string(side) + " side ended abruptly: " + why, true,
           other == 1 ? Direction::C2S : Direction::S2C);
  }

  // What `d`'s source has delivered and the relay has not read yet; plain legs only
  // (bytes inside a TLS record cannot be read without the TLS layer).
  void drain(int d) {
    if (source(d).tls() || ended[d]) return;
    const int fd = source(d).socket().native_handle();
    std::vector<uint8_t> buf(relay.options.buffer_bytes);  // buffers[d] may still be in a write
    for (;;) {
      const ssize_t n = ::recv(fd, buf.data(), buf.size(), MSG_DONTWAIT);
      if (n <= 0) return;
      relay.observer->on_bytes(info.id, d == 0 ? Direction::C2S : Direction::S2C,
                               std::span<const uint8_t>(buf.data(), static_cast<size_t>(n)), wall_clock_ns());
      relay.bytes[d] += static_cast<uint64_t>(n);
    }
  }

  void refuse(const std::string& why) {
    if (closed) return;
    ++relay.refused;
    relay.observer->on_refused(info.client, wall_clock_ns(), who() + ": " + why);
    finish("", true, std::nullopt);
  }

  void finish(const std::string& how, bool reset, std::optional<Direction> abrupt_from) {
    if (closed) return;
    closed = true;
    timer.cancel();
    client.close(reset);
    server.close(reset);
    if (opened) {
      --relay.open;
      relay.observer->on_close(info.id, wall_clock_ns(), how, abrupt_from);
    }
    relay.conns.erase(shared_from_this());
  }

  Impl& relay;
  Leg client, server;
  asio::steady_timer timer;
  HostPort upstream;
  RelayedConnection info;
  std::vector<uint8_t> buffers[2];
  bool ended[2] = {false, false};
  const char* first_end = nullptr;
  bool opened = false, closed = false;
};

Result<void> Relay::Impl::setup() {
  if (!options.plain_upstream && !options.tls_upstream) return make_error("no server to relay to");
  if (!options.plain_port && !options.tls_port) return make_error("no port to listen on");
  asio::error_code ec;
  const asio::ip::address addr = asio::ip::make_address(options.listen_addr, ec);
  if (ec) return make_error("listen address '" + options.listen_addr + "' is not an IP address");

  if (options.tls_port) {
    if (options.cert_file.empty() || options.key_file.empty())
      return make_error("a TLS port needs a certificate and a key");
    towards_clients.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                                asio::ssl::context::no_sslv3);
    if (towards_clients.use_certificate_chain_file(options.cert_file, ec); ec)
      return make_error("cannot use certificate " + options.cert_file + ": " + ec.message());
    if (towards_clients.use_private_key_file(options.key_file, asio::ssl::context::pem, ec); ec)
      return make_error("cannot use key " + options.key_file + ": " + ec.message());
  }
  if (options.tls_upstream || options.tls_port) {
    if (!options.upstream_tls.ca_file.empty()) {
      if (towards_server.load_verify_file(options.upstream_tls.ca_file, ec); ec)
        return make_error("cannot read CA file " + options.upstream_tls.ca_file + ": " + ec.message());
    } else {
      (void)towards_server.set_default_verify_paths(ec);
    }
  }

  auto listen = [&](std::optional<tcp::acceptor>& a, uint16_t port, const char* what) -> Result<void> {
    a.emplace(io);
    const tcp::endpoint ep(addr, port);
    if (a->open(ep.protocol(), ec); ec) return make_error(std::string("cannot open ") + what + " socket: " + ec.message());
    a->set_option(tcp::acceptor::reuse_address(true), ec);
    if (a->bind(ep, ec); ec)
      return make_error(std::string("cannot listen on ") + what + " port " + options.listen_addr + ":" +
                        std::to_string(port) + ": " + ec.message());
    if (a->listen(asio::socket_base::max_listen_connections, ec); ec)
      return make_error(std::string("cannot listen: ") + ec.message());
    return {};
  };
  if (options.plain_port)
    if (auto r = listen(plain_acceptor, *options.plain_port, "plain"); !r) return r;
  if (options.tls_port)
    if (auto r = listen(tls_acceptor, *options.tls_port, "TLS"); !r) return r;
  return {};
}

void Relay::Impl::accept(tcp::acceptor& acceptor, bool tls) {
  acceptor.async_accept([this, &acceptor, tls](asio::error_code ec, tcp::socket s) {
    if (stopping || !acceptor.is_open()) return;
    if (!ec) {
      ++accepted;
      auto c = std::make_shared<Conn>(*this, std::move(s), tls);
      conns.insert(c);
      c->start();
      return accept(acceptor, tls);
    }
    // Out of descriptors and the like: try again shortly rather than spin.
    auto retry = std::make_shared<asio::steady_timer>(io, std::chrono::milliseconds(100));
    retry->async_wait([this, &acceptor, tls, retry](asio::error_code) { accept(acceptor, tls); });
  });
}

void Relay::Impl::stop_now() {
  if (stopping) return;
  stopping = true;
  asio::error_code ignored;
  if (plain_acceptor) plain_acceptor->close(ignored);
  if (tls_acceptor) tls_acceptor->close(ignored);
  resolver.cancel();
  const auto all = conns;
  for (const auto& c : all) c->finish("the recorder stopped", false, std::nullopt);
}

Relay::Relay(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Relay::~Relay() = default;

Result<std::unique_ptr<Relay>> Relay::create(RelayOptions options) {
  auto impl = std::make_unique<Impl>(std::move(options));
  if (auto r = impl->setup(); !r) return r.error();
  return std::make_unique<Relay>(std::move(impl));
}

uint16_t Relay::plain_port() const {
  return impl_->plain_acceptor ? impl_->plain_acceptor->local_endpoint().port() : 0;
}
uint16_t Relay::tls_port() const { return impl_->tls_acceptor ? impl_->tls_acceptor->local_endpoint().port() : 0; }

void Relay::run(RelayObserver& observer) {
  impl_->observer = &observer;
  if (impl_->plain_acceptor) impl_->accept(*impl_->plain_acceptor, false);
  if (impl_->tls_acceptor) impl_->accept(*impl_->tls_acceptor, true);
  impl_->io.run();
}

void Relay::stop() {
  asio::post(impl_->io, [impl = impl_.get()] { impl->stop_now(); });
}

RelayCounters Relay::counters() const {
  RelayCounters c;
  c.accepted = impl_->accepted;
  c.refused = impl_->refused;
  c.open = impl_->open;
  c.bytes[0] = impl_->bytes[0];
  c.bytes[1] = impl_->bytes[1];
  return c;
}

}  // namespace sc::capture
