# An OpenFlow 1.3 learning switch for os-ken, written for vnet's end-to-end
# tests (crates/cli/tests/e2e_openflow.rs); run with
#   osken-manager --ofp-listen-host 127.0.0.1 --ofp-tcp-listen-port PORT \
#       crates/cli/tests/osken/learning_switch.py
#
# On connect it installs the table-miss flow (priority 0, everything to the
# controller, whole packets). Each packet-in teaches it the source MAC's
# port; a packet to a known MAC gets a flow (priority 1, in_port + eth_dst,
# cookie 0x5eed) and is sent there, anything else is flooded. Every event it
# handles is printed on stdout (flushed), for the test to read.

import sys

from os_ken.base import app_manager
from os_ken.controller import ofp_event
from os_ken.controller.handler import CONFIG_DISPATCHER, MAIN_DISPATCHER, set_ev_cls
from os_ken.lib.packet import ethernet, packet
from os_ken.ofproto import ofproto_v1_3

LEARNED_COOKIE = 0x5EED


def say(*words):
    print(*words, flush=True)


class LearningSwitch(app_manager.OSKenApp):
    OFP_VERSIONS = [ofproto_v1_3.OFP_VERSION]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # datapath id -> {mac: port}
        self.macs = {}

    @set_ev_cls(ofp_event.EventOFPSwitchFeatures, CONFIG_DISPATCHER)
    def features(self, ev):
        dp = ev.msg.datapath
        ofp, parser = dp.ofproto, dp.ofproto_parser
        say("features", "dpid=%016x" % dp.id, "n_tables=%d" % ev.msg.n_tables)
        actions = [parser.OFPActionOutput(ofp.OFPP_CONTROLLER, ofp.OFPCML_NO_BUFFER)]
        self.add_flow(dp, 0, parser.OFPMatch(), actions, cookie=0)
        say("table-miss installed")

    def add_flow(self, dp, priority, match, actions, cookie):
        ofp, parser = dp.ofproto, dp.ofproto_parser
        inst = [parser.OFPInstructionActions(ofp.OFPIT_APPLY_ACTIONS, actions)]
        dp.send_msg(
            parser.OFPFlowMod(
                datapath=dp,
                cookie=cookie,
                priority=priority,
                match=match,
                instructions=inst,
            )
        )

    @set_ev_cls(ofp_event.EventOFPPacketIn, MAIN_DISPATCHER)
    def packet_in(self, ev):
        msg = ev.msg
        dp = msg.datapath
        ofp, parser = dp.ofproto, dp.ofproto_parser
        in_port = msg.match["in_port"]
        eth = packet.Packet(msg.data).get_protocols(ethernet.ethernet)
        if not eth:
            return
        eth = eth[0]
        reason = {ofp.OFPR_NO_MATCH: "no_match", ofp.OFPR_ACTION: "action"}.get(
            msg.reason, str(msg.reason)
        )
        say("packet-in", "in_port=%d" % in_port, "src=%s" % eth.src, "dst=%s" % eth.dst,
            "reason=%s" % reason, "len=%d" % len(msg.data))
        table = self.macs.setdefault(dp.id, {})
        table[eth.src] = in_port
        out_port = table.get(eth.dst, ofp.OFPP_FLOOD)
        actions = [parser.OFPActionOutput(out_port)]
        if out_port != ofp.OFPP_FLOOD:
            match = parser.OFPMatch(in_port=in_port, eth_dst=eth.dst)
            self.add_flow(dp, 1, match, actions, cookie=LEARNED_COOKIE)
            say("flow", "in_port=%d" % in_port, "eth_dst=%s" % eth.dst, "out=%d" % out_port)
        dp.send_msg(
            parser.OFPPacketOut(
                datapath=dp,
                buffer_id=ofp.OFP_NO_BUFFER,
                in_port=in_port,
                actions=actions,
                data=msg.data,
            )
        )


if __name__ == "__main__":
    sys.exit("run me with osken-manager")
