<?php
/**
 * The address of the browser that made a request.
 *
 * REMOTE_ADDR is the answer unless it is one of the configured trusted
 * proxies. Only then is X-Forwarded-For read, right to left (each proxy
 * appends the address it saw): trusted proxies are skipped and the first
 * address that is not one of them is the client. An entry that is not an IP
 * address stops the walk, because nothing left of it can be believed; the
 * last address checked is returned then. With no trusted proxies
 * configured, X-Forwarded-For is never read, so a client cannot choose its
 * own logged address.
 */
final class Dxt_ClientIp
{
    /**
     * @param array $server $_SERVER
     * @param string[] $trustedProxies IPs or CIDRs (IPv4 and IPv6)
     */
    public static function from(array $server, array $trustedProxies): ?string
    {
        $remote = isset($server['REMOTE_ADDR']) ? self::normalize((string) $server['REMOTE_ADDR']) : null;
        if ($remote === null) {
            return null;
        }
        if (!$trustedProxies || !self::inAny($remote, $trustedProxies)) {
            return $remote;
        }
        $xff = isset($server['HTTP_X_FORWARDED_FOR']) ? (string) $server['HTTP_X_FORWARDED_FOR'] : '';
        if (trim($xff) === '') {
            return $remote;
        }
        $chain = array_reverse(explode(',', $xff));
        $client = $remote;
        foreach ($chain as $entry) {
            $ip = self::normalize($entry);
            if ($ip === null) {
                return $client;
            }
            $client = $ip;
            if (!self::inAny($ip, $trustedProxies)) {
                return $ip;
            }
        }
        // Every hop is a trusted proxy: the leftmost one is as far as it goes.
        return $client;
    }

    /**
     * The canonical text of an address, or null when $s is not one.
     * Accepts "1.2.3.4:5678", "[2001:db8::1]:443" and IPv4-mapped IPv6
     * (returned as IPv4).
     */
    public static function normalize(string $s): ?string
    {
        $s = trim($s);
        if ($s === '') {
            return null;
        }
        if ($s[0] === '[') {
            $end = strpos($s, ']');
            if ($end === false) {
                return null;
            }
            $s = substr($s, 1, $end - 1);
        } elseif (substr_count($s, ':') === 1 && strpos($s, '.') !== false) {
            $s = substr($s, 0, strpos($s, ':'));
        }
        $pct = strpos($s, '%'); // zone id of a link-local IPv6 address
        if ($pct !== false) {
            $s = substr($s, 0, $pct);
        }
        $bin = @inet_pton($s);
        if ($bin === false) {
            return null;
        }
        if (strlen($bin) === 16 && substr($bin, 0, 12) === str_repeat("\0", 10) . "\xff\xff") {
            $bin = substr($bin, 12);
        }
        $out = @inet_ntop($bin);
        return $out === false ? null : $out;
    }

    /** Whether $ip lies in one of $cidrs (entries that do not parse never match). */
    public static function inAny(string $ip, array $cidrs): bool
    {
        foreach ($cidrs as $cidr) {
            if (self::inCidr($ip, (string) $cidr)) {
                return true;
            }
        }
        return false;
    }

    /** Whether $ip lies in $cidr ("10.0.0.0/8", "2001:db8::/32", or a single address). */
    public static function inCidr(string $ip, string $cidr): bool
    {
        $cidr = trim($cidr);
        $bits = null;
        $slash = strpos($cidr, '/');
        if ($slash !== false) {
            $b = substr($cidr, $slash + 1);
            if (!ctype_digit($b)) {
                return false;
            }
            $bits = (int) $b;
            $cidr = substr($cidr, 0, $slash);
        }
        $net = self::normalize($cidr);
        $addr = self::normalize($ip);
        if ($net === null || $addr === null) {
            return false;
        }
        $netBin = inet_pton($net);
        $addrBin = inet_pton($addr);
        if (strlen($netBin) !== strlen($addrBin)) {
            return false;
        }
        $max = strlen($netBin) * 8;
        if ($bits === null) {
            $bits = $max;
        }
        if ($bits > $max) {
            return false;
        }
        $full = intdiv($bits, 8);
        if (substr($netBin, 0, $full) !== substr($addrBin, 0, $full)) {
            return false;
        }
        $rest = $bits % 8;
        if ($rest === 0) {
            return true;
        }
        $mask = (0xff << (8 - $rest)) & 0xff;
        return (ord($netBin[$full]) & $mask) === (ord($addrBin[$full]) & $mask);
    }
}
