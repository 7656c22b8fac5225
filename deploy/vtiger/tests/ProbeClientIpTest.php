<?php
/** Dxt_ClientIp: REMOTE_ADDR, X-Forwarded-For only through trusted proxies. */

function testClientIpIsRemoteAddrWithoutTrustedProxies()
{
    $s = array('REMOTE_ADDR' => '203.0.113.7', 'HTTP_X_FORWARDED_FOR' => '198.51.100.1');
    Dxt_Assert::same('203.0.113.7', Dxt_ClientIp::from($s, array()), 'XFF ignored without trusted proxies');
    Dxt_Assert::same('203.0.113.7', Dxt_ClientIp::from($s, array('10.0.0.0/8')), 'XFF ignored from an untrusted peer');
    Dxt_Assert::same(null, Dxt_ClientIp::from(array(), array()), 'no REMOTE_ADDR');
}

function testClientIpWalksForwardedForRightToLeft()
{
    $trusted = array('10.0.0.0/8', '192.168.1.10');
    $s = array('REMOTE_ADDR' => '10.1.2.3', 'HTTP_X_FORWARDED_FOR' => '6.6.6.6, 198.51.100.20, 192.168.1.10');
    Dxt_Assert::same('198.51.100.20', Dxt_ClientIp::from($s, $trusted), 'first untrusted from the right; the spoofed left entry is not believed');
    $s['HTTP_X_FORWARDED_FOR'] = '10.9.9.9, 192.168.1.10';
    Dxt_Assert::same('10.9.9.9', Dxt_ClientIp::from($s, $trusted), 'all trusted: the leftmost');
    $s['HTTP_X_FORWARDED_FOR'] = '198.51.100.20, garbage, 10.2.2.2';
    Dxt_Assert::same('10.2.2.2', Dxt_ClientIp::from($s, $trusted), 'a bad entry stops the walk');
    $s['HTTP_X_FORWARDED_FOR'] = '';
    Dxt_Assert::same('10.1.2.3', Dxt_ClientIp::from($s, $trusted), 'trusted proxy without XFF');
    $s['HTTP_X_FORWARDED_FOR'] = '198.51.100.30:4711';
    Dxt_Assert::same('198.51.100.30', Dxt_ClientIp::from($s, $trusted), 'port stripped');
}

function testClientIpIpv6AndMappedAddresses()
{
    $trusted = array('2001:db8:1::/48', '::1');
    $s = array('REMOTE_ADDR' => '2001:db8:1:2::5', 'HTTP_X_FORWARDED_FOR' => '[2001:db8:ffff::1]:443');
    Dxt_Assert::same('2001:db8:ffff::1', Dxt_ClientIp::from($s, $trusted), 'IPv6 chain');
    Dxt_Assert::same('192.0.2.1', Dxt_ClientIp::from(array('REMOTE_ADDR' => '::ffff:192.0.2.1'), array()), 'IPv4-mapped as IPv4');
    Dxt_Assert::true(Dxt_ClientIp::inCidr('::ffff:10.0.0.1', '10.0.0.0/8'), 'mapped address in an IPv4 CIDR');
}

function testClientIpCidrMatching()
{
    Dxt_Assert::true(Dxt_ClientIp::inCidr('10.255.0.1', '10.0.0.0/8'), '/8');
    Dxt_Assert::false(Dxt_ClientIp::inCidr('11.0.0.1', '10.0.0.0/8'), 'outside /8');
    Dxt_Assert::true(Dxt_ClientIp::inCidr('172.16.5.4', '172.16.0.0/12'), '/12');
    Dxt_Assert::false(Dxt_ClientIp::inCidr('172.32.0.1', '172.16.0.0/12'), 'outside /12');
    Dxt_Assert::true(Dxt_ClientIp::inCidr('192.0.2.9', '192.0.2.9'), 'single address');
    Dxt_Assert::false(Dxt_ClientIp::inCidr('192.0.2.10', '192.0.2.9'), 'other single address');
    Dxt_Assert::true(Dxt_ClientIp::inCidr('1.2.3.4', '0.0.0.0/0'), '/0');
    Dxt_Assert::true(Dxt_ClientIp::inCidr('2001:db8::1', '2001:db8::/33'), 'IPv6 /33');
    Dxt_Assert::false(Dxt_ClientIp::inCidr('2001:db8:8000::1', '2001:db8::/33'), 'outside IPv6 /33');
    Dxt_Assert::false(Dxt_ClientIp::inCidr('2001:db8::1', '10.0.0.0/8'), 'families differ');
    Dxt_Assert::false(Dxt_ClientIp::inCidr('10.0.0.1', '10.0.0.0/33'), 'bad prefix');
    Dxt_Assert::false(Dxt_ClientIp::inCidr('10.0.0.1', 'nonsense'), 'bad CIDR');
}
