<?php
require_once __DIR__ . '/Settings.php';

/**
 * Beacon tokens (CONTRACTS §6).
 *
 * A token tells the beacon endpoint which Vtiger user copied something:
 *
 *     v1.<user_id>.<expiry_unix_seconds>.<hex>
 *
 * where <hex> is the lowercase hex HMAC-SHA256 of "v1.<user_id>.<expiry>"
 * under dxt_config.beacon_secret exactly as stored (the text, not decoded).
 * The extension issues it to the logged-in user only, so one user cannot
 * make beacons count as another's. Expiry is at most 12 hours after issue.
 *
 * Framework-independent: no Vtiger class is used here.
 */
final class Dxt_Token
{
    const VERSION = 'v1';

    /** Longest lifetime of a token, in seconds (12 hours). */
    const MAX_TTL = 43200;

    /**
     * Issues a token for $userId valid until $now + $ttl ($ttl is capped at
     * 12 hours; a ttl below one second is an error).
     *
     * @throws InvalidArgumentException for a user id below 1, an empty
     *         secret or a non-positive ttl.
     */
    public static function issue(int $userId, string $secret, int $now, int $ttl = self::MAX_TTL): string
    {
        if ($userId < 1) {
            throw new InvalidArgumentException('beacon token: user id must be positive');
        }
        if ($secret === '') {
            throw new InvalidArgumentException('beacon token: beacon_secret is empty (run dxtracker migrate)');
        }
        if ($ttl < 1) {
            throw new InvalidArgumentException('beacon token: ttl must be positive');
        }
        $expiry = $now + min($ttl, self::MAX_TTL);
        $payload = self::VERSION . '.' . $userId . '.' . $expiry;
        return $payload . '.' . hash_hmac('sha256', $payload, $secret);
    }

    /**
     * Returns the user id of a valid, unexpired token, or null. A token whose
     * expiry lies more than 12 hours ahead of $now was not issued by
     * issue() and is refused as well.
     */
    public static function verify(string $token, string $secret, int $now): ?int
    {
        if ($secret === '' || strlen($token) > 128) {
            return null;
        }
        if (!preg_match('/^v1\.([1-9][0-9]{0,9})\.([1-9][0-9]{0,11})\.([0-9a-f]{64})$/D', $token, $m)) {
            return null;
        }
        $payload = self::VERSION . '.' . $m[1] . '.' . $m[2];
        // Compare before looking at the numbers: the time taken says nothing
        // about how much of the signature was right.
        if (!hash_equals(hash_hmac('sha256', $payload, $secret), $m[3])) {
            return null;
        }
        $userId = (int) $m[1];
        $expiry = (int) $m[2];
        if ($userId > 2147483647 || $expiry <= $now || $expiry - $now > self::MAX_TTL) {
            return null;
        }
        return $userId;
    }

    /**
     * What the BeaconToken action answers tracker.js for user $userId:
     * {enabled, token, expires, beacon_url, relay, max_chars}.
     *
     * enabled is false, with no token, when copy tracking is off, dxt_config
     * could not be read or there is no beacon_secret; tracker.js then adds
     * no listeners, and asks again after `expires` (10 minutes).
     *
     * @param object $config a Dxt_Config (tracks(), copyMaxChars(), beaconSecret(), get())
     * @param string $relayUrl URL of the relay action, used when beacon_url is 'relay'
     */
    public static function clientConfig($config, int $userId, int $now, string $relayUrl): array
    {
        $secret = (string) $config->beaconSecret();
        $configured = (string) $config->get('beacon_url', '');
        $target = Dxt_Settings::beaconTarget($configured, $relayUrl);
        $out = array(
            'enabled' => false,
            'token' => null,
            'expires' => $now + 600,
            'beacon_url' => $target,
            'relay' => trim($configured) === Dxt_Settings::BEACON_RELAY,
            'max_chars' => (int) $config->copyMaxChars(),
        );
        if ($userId < 1 || $secret === '' || !$config->tracks('copy')) {
            return $out;
        }
        $out['enabled'] = true;
        $out['token'] = self::issue($userId, $secret, $now);
        $out['expires'] = self::expiryOf($out['token']);
        return $out;
    }

    /**
     * The expiry (unix seconds) written in a well-formed token, or null. It
     * says nothing about validity: use verify() for that.
     */
    public static function expiryOf(string $token): ?int
    {
        if (!preg_match('/^v1\.[0-9]+\.([0-9]{1,12})\.[0-9a-f]{64}$/D', $token, $m)) {
            return null;
        }
        return (int) $m[1];
    }
}
