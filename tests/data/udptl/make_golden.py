#!/usr/bin/env python3
"""Writes the tshark golden files for the UDPTL/IFP tests (see README.md for how it is run).

One line per UDP packet, tab-separated:
  frame  payload-hex  status  seq  recovery  ifps
status is "ok" or "malformed" (tshark flagged the packet; only frame and payload are then used).
recovery is "sec:N", "fec:SPAN:N:hex,hex,..." or "-" when tshark stopped after the primary IFP
(it does so after an IFP that ends a T.38 reassembly, e.g. hdlc-fcs-OK-sig-end).
ifps lists the primary IFP, then the secondaries, ";"-separated, each as
  LEN:KINDVALUE[/FIELD[=HEX|#LEN]]...
with KIND "i" (t30-indicator) or "d" (t30-data), VALUE tshark's enum number, FIELD the field-type
number; the primary's field data is given as hex, a secondary's only as its length (the same
octets were the primary of an earlier packet).
"""
import json
import subprocess
import sys


def ifp_text(length, element, primary):
    text = f"{length}:"
    kind = element.get("t38.type_of_msg")
    tree = element.get("t38.type_of_msg_tree", {})
    if kind == "0":
        text += "i" + tree.get("t38.t30_indicator", "?")
    else:
        text += "d" + tree.get("t38.t30_data", "?")
    items = element.get("t38.data_field_tree", {})
    for i in range(int(element.get("t38.data_field", "0"))):
        item = items[f"Item {i}"]["t38.Data_Field_item_element"]
        text += "/" + item["t38.field_type"]
        if "t38.field_data" in item:
            data = item["t38.field_data"].replace(":", "")
            text += ("=" + data) if primary else f"#{len(data) // 2}"
    return text


def main():
    pcap, port, out = sys.argv[1], sys.argv[2], sys.argv[3]
    prefs = sys.argv[4:]
    cmd = ["tshark", "-r", pcap, "-d", f"udp.port=={port},t38", "-Y", f"udp.port=={port}",
           "-T", "json"]
    for p in prefs:
        cmd += ["-o", p]
    packets = json.loads(subprocess.run(cmd, check=True, capture_output=True).stdout)
    lines = []
    for pkt in packets:
        layers = pkt["_source"]["layers"]
        if "udp" not in layers:
            continue
        frame = layers["frame"]["frame.number"]
        payload = layers["udp"].get("udp.payload", "").replace(":", "")
        t38 = layers.get("t38", {})
        udptl = t38.get("t38.UDPTLPacket_element") if isinstance(t38, dict) else None
        if "_ws.malformed" in layers or udptl is None:
            lines.append(f"{frame}\t{payload}\tmalformed")
            continue
        ifps = [ifp_text(udptl["per.open_type_length"], udptl["t38.primary_ifp_packet_element"],
                         True)]
        rec = udptl.get("t38.error_recovery_tree")
        if rec is None:
            # tshark stops after an IFP that ends a reassembly ("Unreassembled fragment").
            recovery = "-"
        elif udptl["t38.error_recovery"] == "0":
            n = int(rec["t38.secondary_ifp_packets"])
            items = rec.get("t38.secondary_ifp_packets_tree", {})
            for i in range(n):
                item = items[f"Item {i}"]
                ifps.append(ifp_text(item["per.open_type_length"],
                                     item.get("t38.secondary_ifp_packets_item_element", {}), False))
            recovery = f"sec:{n}"
        else:
            fec = rec["t38.fec_info_element"]
            n = int(fec["t38.fec_data"])
            data = fec.get("t38.fec_data_tree", {})
            entries = ",".join(data[f"Item {i}"]["t38.fec_data_item"].replace(":", "")
                               for i in range(n))
            recovery = f"fec:{fec['t38.fec_npackets']}:{n}:{entries}"
        lines.append("\t".join([frame, payload, "ok", udptl["t38.seq_number"], recovery,
                                ";".join(ifps)]))
    with open(out, "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
