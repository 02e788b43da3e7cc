// Channels that tunnel a guest device's byte stream: usbredir, port, webdav
// (all "spicevmc"), smartcard, and the obsolete tunnel channel. Their payloads
// are kept as bytes here; their own protocols are decoded elsewhere.
#include <spice/enums.h>
#include <spice/protocol.h>

#include "dissect/proto/spice.hpp"

namespace sc::proto {

using namespace schema;  // NOLINT

void describe_vmc(Builder& b, const Shared& s, const ChannelBuilder& base) {
  const auto* compression = b.names("data_compression_type", false, "SPICE_DATA_COMPRESSION_TYPE_",
                                    {SC_SYM(SPICE_DATA_COMPRESSION_TYPE_NONE), SC_SYM(SPICE_DATA_COMPRESSION_TYPE_LZ4)});
  const auto* port_event = b.names("port_event", false, "SPICE_PORT_EVENT_",
                                   {SC_SYM(SPICE_PORT_EVENT_OPENED), SC_SYM(SPICE_PORT_EVENT_CLOSED),
                                    SC_SYM(SPICE_PORT_EVENT_BREAK)});
  const auto* vsc_type = b.names(
      "vsc_message_type", false, "SPICE_VSC_MESSAGE_TYPE_",
      {SC_SYM(SPICE_VSC_MESSAGE_TYPE_Init), SC_SYM(SPICE_VSC_MESSAGE_TYPE_Error),
       SC_SYM(SPICE_VSC_MESSAGE_TYPE_ReaderAdd), SC_SYM(SPICE_VSC_MESSAGE_TYPE_ReaderRemove),
       SC_SYM(SPICE_VSC_MESSAGE_TYPE_ATR), SC_SYM(SPICE_VSC_MESSAGE_TYPE_CardRemove),
       SC_SYM(SPICE_VSC_MESSAGE_TYPE_APDU), SC_SYM(SPICE_VSC_MESSAGE_TYPE_Flush),
       SC_SYM(SPICE_VSC_MESSAGE_TYPE_FlushComplete)});

  auto compressed = [&] {
    return std::vector<Field>{
        b.u8("type", compression),
        b.cases("type", {when(SPICE_DATA_COMPRESSION_TYPE_NONE, {}), otherwise({b.u32("uncompressed_size")})}),
        b.raw("compressed_data", rest()).secret(kSecretDevices)};
  };
  const std::vector<std::string> vmc_prefixes = {"SPICE_MSG_SPICEVMC_", "SPICE_MSGC_SPICEVMC_", "SPICE_MSG_PORT_",
                                                 "SPICE_MSGC_PORT_", "SPICE_MSG_", "SPICE_MSGC_"};
  auto& vmc = b.abstract_channel("spicevmc", vmc_prefixes);
  vmc.inherit(base);
  // Device streams carry files (webdav), USB traffic and console text.
  vmc.s2c(SC_SYM(SPICE_MSG_SPICEVMC_DATA), {b.raw("data", rest()).secret(kSecretDevices)})
      .s2c(SC_SYM(SPICE_MSG_SPICEVMC_COMPRESSED_DATA), compressed())
      .c2s(SC_SYM(SPICE_MSGC_SPICEVMC_DATA), {b.raw("data", rest()).secret(kSecretDevices)})
      .c2s(SC_SYM(SPICE_MSGC_SPICEVMC_COMPRESSED_DATA), compressed());
  const std::initializer_list<Symbol> vmc_caps = {SC_SYM(SPICE_SPICEVMC_CAP_DATA_COMPRESS_LZ4)};

  auto& usbredir = b.channel(SPICE_CHANNEL_USBREDIR, "usbredir", vmc_prefixes);
  usbredir.inherit(vmc).caps(vmc_caps, "SPICE_SPICEVMC_CAP_");

  // The port name is reached through an offset, not stored inline.
  auto& port = b.abstract_channel("port-base", vmc_prefixes);
  port.inherit(vmc)
      .c2s(SC_SYM(SPICE_MSGC_PORT_EVENT), {b.u8("event", port_event)})
      .s2c(SC_SYM(SPICE_MSG_PORT_INIT),
           {b.u32("name_size"), b.ptr("name", b.bytes(by("name_size"), true)), b.u8("opened")})
      .s2c(SC_SYM(SPICE_MSG_PORT_EVENT), {b.u8("event", port_event)});
  b.channel(SPICE_CHANNEL_PORT, "port", vmc_prefixes).inherit(port).caps(vmc_caps, "SPICE_SPICEVMC_CAP_");
  b.channel(SPICE_CHANNEL_WEBDAV, "webdav", vmc_prefixes).inherit(port).caps(vmc_caps, "SPICE_SPICEVMC_CAP_");

  auto smartcard_data = [&] {
    return std::vector<Field>{b.u32("type", vsc_type), b.u32("reader_id"), b.u32("length"),
                              b.raw("data", by("length")).secret(kSecretDevices)};  // APDUs carry PINs
  };
  auto& smartcard = b.channel(SPICE_CHANNEL_SMARTCARD, "smartcard",
                              {"SPICE_MSG_SMARTCARD_", "SPICE_MSGC_SMARTCARD_", "SPICE_MSG_", "SPICE_MSGC_"});
  smartcard.inherit(base)
      .s2c(SC_SYM(SPICE_MSG_SMARTCARD_DATA), smartcard_data())
      .c2s(SC_SYM(SPICE_MSGC_SMARTCARD_DATA), smartcard_data());

  // The tunnel channel was removed from servers long ago; only the common messages remain.
  b.channel(SPICE_CHANNEL_TUNNEL, "tunnel", {"SPICE_MSG_", "SPICE_MSGC_"}).inherit(base);
  (void)s;
}

}  // namespace sc::proto
