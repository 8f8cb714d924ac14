#!/usr/bin/env python3
"""Writes synthetic.mrt: hand-made MRT records for the mrtdump tests
(tests/mrtdump_synthetic.rs), each a case of the bgpdump -m line format:
_LOCAL and _ET names, MP_REACH/MP_UNREACH order and next hops, RFC 6793
AS4_PATH and AS4_AGGREGATOR, AS path segment kinds, well-known communities,
IPv6 address text, TABLE_DUMP and TABLE_DUMP_V2 records, and inputs that
bgpdump 1.6 misreads (see synthetic.md).

Run: python3 make_synthetic.py [OUTPUT]
"""
import struct, ipaddress
def attr(flags, t, v):
    if len(v) > 255 or flags & 0x10:
        return struct.pack('>BBH', flags|0x10, t, len(v)) + v
    return struct.pack('>BBB', flags, t, len(v)) + v
def pfx(p, pid=None):
    n = ipaddress.ip_network(p)
    l = n.prefixlen
    b = n.network_address.packed[:(l+7)//8]
    return (struct.pack('>I', pid) if pid is not None else b'') + bytes([l]) + b
def aspath(segs, w):
    out=b''
    for t, asns in segs:
        out += bytes([t, len(asns)]) + b''.join(struct.pack('>I' if w==4 else '>H', a) for a in asns)
    return out
def update(withdrawn=b'', attrs=b'', nlri=b''):
    body = struct.pack('>H', len(withdrawn)) + withdrawn + struct.pack('>H', len(attrs)) + attrs + nlri
    return b'\xff'*16 + struct.pack('>HB', 19+len(body), 2) + body
def bgp4mp(ts, subtype, msg, peer_as=65001, local_as=65000, peer='192.0.2.1', local='192.0.2.254', us=None):
    as4 = subtype in (4,5,7,9,11)
    pa = ipaddress.ip_address(peer); la = ipaddress.ip_address(local)
    afi = 1 if pa.version == 4 else 2
    f = '>II' if as4 else '>HH'
    body = struct.pack(f, peer_as, local_as) + struct.pack('>HH', 0, afi) + pa.packed + la.packed + msg
    t = 16
    if us is not None:
        t = 17; body = struct.pack('>I', us) + body
    return struct.pack('>IHHI', ts, t, subtype, len(body)) + body
recs=[]
base = lambda w, path=[(2,[65001, 65002])]: attr(0x40,1,b'\x00') + attr(0x40,2,aspath(path,w))
# 1: local AS4 subtype 7
recs.append(bgp4mp(1000, 7, update(pfx('10.1.0.0/16'), base(4)+attr(0x40,3,bytes([192,0,2,9])), pfx('10.2.0.0/16'))))
# 2: ET subtype 4, MP_REACH IPv4 unicast, MED big, LP big
mp4 = struct.pack('>HBB',1,1,4) + bytes([192,0,2,7]) + b'\x00' + pfx('10.3.0.0/16')
recs.append(bgp4mp(1001, 4, update(b'', base(4)+attr(0x80,4,struct.pack('>I',3000000000))+attr(0x40,5,struct.pack('>I',4000000000))+attr(0x80,14,mp4)), us=42))
# 3: order: classic withdrawn, MP_UNREACH v6, classic nlri, MP_REACH v6 32-byte nh
mp6 = struct.pack('>HBB',2,1,32) + ipaddress.ip_address('2001:db8::1').packed + ipaddress.ip_address('fe80::1').packed + b'\x00' + pfx('2001:0:1::/48') + pfx('2001:db8:1:2:3:4::/96')
mpu6 = struct.pack('>HB',2,1) + pfx('2001:db8:9::/48')
recs.append(bgp4mp(1002, 4, update(pfx('10.9.0.0/16'), attr(0x80,15,mpu6)+base(4)+attr(0x40,3,bytes([192,0,2,9]))+attr(0x80,14,mp6), pfx('10.4.0.0/16'))))
# 4: 2-byte MESSAGE with AS_TRANS and AS4_PATH, AGGREGATOR AS_TRANS + AS4_AGGREGATOR
a = attr(0x40,1,b'\x02') + attr(0x40,2,aspath([(2,[65001,23456,23456])],2)) + attr(0x40,3,bytes([192,0,2,9])) + attr(0xc0,7,struct.pack('>H',23456)+bytes([10,0,0,1])) + attr(0xc0,17,aspath([(2,[70000,80000])],4)) + attr(0xc0,18,struct.pack('>I',80000)+bytes([10,0,0,2])) + attr(0x40,6,b'')
recs.append(bgp4mp(1003, 1, update(b'', a, pfx('10.5.0.0/16'))))
# 4b: AGGREGATOR not AS_TRANS + AS4_AGGREGATOR -> AS4_PATH ignored
a = attr(0x40,1,b'\x01') + attr(0x40,2,aspath([(2,[65001,23456])],2)) + attr(0x40,3,bytes([192,0,2,9])) + attr(0xc0,7,struct.pack('>H',65002)+bytes([10,0,0,1])) + attr(0xc0,17,aspath([(2,[70000])],4)) + attr(0xc0,18,struct.pack('>I',80000)+bytes([10,0,0,2]))
recs.append(bgp4mp(1004, 1, update(b'', a, pfx('10.6.0.0/16'))))
# 5: confed seq + set + communities
a = attr(0x40,1,b'\x00') + attr(0x40,2,aspath([(3,[64512,64513]),(2,[65001]),(1,[1,2,3]),(4,[5,6])],4)) + attr(0x40,3,bytes([192,0,2,9])) + attr(0xc0,8,struct.pack('>IIIII',0xFFFFFF01,0xFFFFFF02,0xFFFFFF03,0xFFFFFF04,(3356<<16)|100))
recs.append(bgp4mp(1005, 4, update(b'', a, pfx('10.7.0.0/16'))))
# 6: IPv6 session, MP_REACH v6 with mapped nh, IPv4 classic on v6 session
mp6 = struct.pack('>HBB',2,1,16) + ipaddress.ip_address('::ffff:192.0.2.1').packed + b'\x00' + pfx('2001:db8:a::/48')
recs.append(bgp4mp(1006, 4, update(b'', base(4)+attr(0x80,14,mp6)), peer='2001:db8::5', local='2001:db8::6'))
# 7: MP_REACH IPv4 multicast and IPv6 multicast
mpm = struct.pack('>HBB',1,2,4) + bytes([192,0,2,8]) + b'\x00' + pfx('10.8.0.0/16')
recs.append(bgp4mp(1007, 4, update(b'', base(4)+attr(0x80,14,mpm))))
# 8: ADDPATH local subtype 11 with v6 withdraw
mpu6 = struct.pack('>HB',2,1) + pfx('2001:db8:9::/48', 7)
recs.append(bgp4mp(1008, 11, update(pfx('10.10.0.0/16', 5), attr(0x80,15,mpu6))))
# 9: state change ET AS4
body = struct.pack('>IIHH', 65001, 65000, 0, 1) + bytes([192,0,2,1,192,0,2,254]) + struct.pack('>HH', 5, 6)
recs.append(struct.pack('>IHHI', 1009, 17, 5, len(body)+4) + struct.pack('>I', 999999) + body)
# 10: nexthop absent, origin absent
recs.append(bgp4mp(1010, 4, update(b'', attr(0x40,2,b''), pfx('10.11.0.0/16'))))
# 11: AS path seg len 0 and malformed
recs.append(bgp4mp(1011, 4, update(b'', attr(0x40,2,bytes([2,0,2,1,0,0,0,5])), pfx('10.12.0.0/16'))))
recs.append(bgp4mp(1012, 4, update(b'', attr(0x40,2,bytes([7,1,0,0,0,5])), pfx('10.13.0.0/16'))))
# 12: aggregator with 255.255.255.255 ; 
recs.append(bgp4mp(1013, 4, update(b'', attr(0xc0,7,struct.pack('>I',5)+bytes([255,255,255,255])), pfx('10.14.0.0/16'))))
# 13: IPv6 address formats in prefix
mp6 = struct.pack('>HBB',2,1,16) + ipaddress.ip_address('2001:0:0:1:0:0:0:1').packed + b'\x00' + pfx('::/0') + pfx('2001:0:1:2:3:4:5:6/128') + pfx('::c000:200/120')
recs.append(bgp4mp(1014, 4, update(b'', attr(0x80,14,mp6))))
# ---- second part: RIB records and inputs bgpdump misreads
recs2=[]
# TABLE_DUMP v1 IPv6 (subtype 2) with full-form MP_REACH
mp6 = struct.pack('>HBB',2,1,16) + ipaddress.ip_address('2001:db8::99').packed + b'\x00'
a = attr(0x40,1,b'\x00') + attr(0x40,2,aspath([(2,[65001])],2)) + attr(0x80,14,mp6)
body = struct.pack('>HH',0,1) + ipaddress.ip_address('2001:db8:5::').packed + bytes([48,1]) + struct.pack('>I',900) + ipaddress.ip_address('2001:db8::1').packed + struct.pack('>H',65001) + struct.pack('>H',len(a)) + a
recs2.append(struct.pack('>IHHI',2000,12,2,len(body))+body)
# TABLE_DUMP v1 IPv4 with AS4 merge needing more than the first segment (bgpdump repeats the first)
a = attr(0x40,1,b'\x00') + attr(0x40,2,aspath([(2,[1,2]),(2,[3,23456])],2)) + attr(0x40,3,bytes([192,0,2,1])) + attr(0xc0,17,aspath([(2,[70000])],4))
body = struct.pack('>HH',0,2) + bytes([10,20,0,0]) + bytes([16,1]) + struct.pack('>I',900) + bytes([192,0,2,1]) + struct.pack('>H',65001) + struct.pack('>H',len(a)) + a
recs2.append(struct.pack('>IHHI',2001,12,1,len(body))+body)
# PEER_INDEX_TABLE: peer 0 IPv4 AS4, peer 1 IPv6 2-byte
pit = bytes([10,0,0,100]) + struct.pack('>H',4) + b'view' + struct.pack('>H',2)
pit += bytes([2]) + bytes([10,0,0,1]) + bytes([192,0,2,1]) + struct.pack('>I',4200000000)
pit += bytes([1]) + bytes([10,0,0,2]) + ipaddress.ip_address('2001:db8::2').packed + struct.pack('>H',65002)
recs2.append(struct.pack('>IHHI',2002,13,1,len(pit))+pit)
def rib_entry(idx, attrs, pid=None):
    return struct.pack('>HI', idx, 1234) + (struct.pack('>I',pid) if pid is not None else b'') + struct.pack('>H',len(attrs)) + attrs
# RIB_IPV4_UNICAST, one entry with short MP_REACH with 4-byte nh, one with peer index out of range
a1 = attr(0x40,1,b'\x00') + attr(0x40,2,aspath([(2,[4200000000])],4)) + attr(0x40,3,bytes([192,0,2,50])) + attr(0x80,14,bytes([4,192,0,2,51]))
a2 = attr(0x40,1,b'\x00') + attr(0x40,2,aspath([(2,[1])],4)) + attr(0x40,3,bytes([192,0,2,52]))
body = struct.pack('>I',0) + pfx('10.30.0.0/16') + struct.pack('>H',2) + rib_entry(0,a1) + rib_entry(7,a2)
recs2.append(struct.pack('>IHHI',2003,13,2,len(body))+body)
# RIB_IPV6_UNICAST with short MP_REACH 32-byte nh
a = attr(0x40,1,b'\x00') + attr(0x40,2,aspath([(2,[65002])],4)) + attr(0x80,14,bytes([32])+ipaddress.ip_address('2001:db8::77').packed+ipaddress.ip_address('fe80::77').packed)
body = struct.pack('>I',1) + pfx('2001:db8:30::/48') + struct.pack('>H',1) + rib_entry(1,a)
recs2.append(struct.pack('>IHHI',2004,13,4,len(body))+body)
# RIB_IPV4_MULTICAST: not printed
body = struct.pack('>I',2) + pfx('10.31.0.0/16') + struct.pack('>H',1) + rib_entry(0,a2)
recs2.append(struct.pack('>IHHI',2005,13,3,len(body))+body)
# RIB_GENERIC IPv4 unicast and RIB_GENERIC_ADDPATH (RFC 8050 layout)
body = struct.pack('>I',3) + struct.pack('>HB',1,1) + pfx('10.32.0.0/16') + struct.pack('>H',1) + rib_entry(0,a2)
recs2.append(struct.pack('>IHHI',2006,13,6,len(body))+body)
body = struct.pack('>I',4) + struct.pack('>HB',1,1) + struct.pack('>I',9) + pfx('10.33.0.0/16') + struct.pack('>H',1) + rib_entry(0,a2)
recs2.append(struct.pack('>IHHI',2007,13,12,len(body))+body)
# BGP4MP: MP_REACH IPv4 with IPv6 next hop (RFC 8950)
mp = struct.pack('>HBB',1,1,16) + ipaddress.ip_address('2001:db8::8').packed + b'\x00' + pfx('10.40.0.0/16')
recs2.append(bgp4mp(2008, 4, update(b'', base(4)+attr(0x80,14,mp))))
# BGP4MP: MP_REACH IPv6 with IPv4 next hop
mp = struct.pack('>HBB',2,1,4) + bytes([192,0,2,4]) + b'\x00' + pfx('2001:db8:41::/48')
recs2.append(bgp4mp(2009, 4, update(b'', base(4)+attr(0x80,14,mp))))
# BGP4MP: truncated NLRI (last prefix cut) and prefix length 33
recs2.append(bgp4mp(2010, 4, update(b'', base(4)+attr(0x40,3,bytes([192,0,2,9])), pfx('10.42.0.0/16')+bytes([24,10,43]))))
recs2.append(bgp4mp(2011, 4, update(b'', base(4)+attr(0x40,3,bytes([192,0,2,9])), pfx('10.44.0.0/16')+bytes([33,1,2,3,4,5]))))
# BGP4MP: 6-octet AGGREGATOR in an AS4 record
recs2.append(bgp4mp(2012, 4, update(b'', base(4)+attr(0x40,3,bytes([192,0,2,9]))+attr(0xc0,7,struct.pack('>H',64999)+bytes([10,0,0,9])), pfx('10.45.0.0/16'))))
# BGP4MP: LOCAL_ADDPATH subtype 10 (2-octet), announce with path id
recs2.append(bgp4mp(2013, 10, update(b'', base(2)+attr(0x40,3,bytes([192,0,2,9])), pfx('10.46.0.0/16', 3))))
import os, sys
out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), 'synthetic.mrt')
open(out, 'wb').write(b''.join(recs + recs2))
