<?php
/** Dxt_Token: beacon tokens v1.<user>.<expiry>.<hmac> (CONTRACTS §6). */
require_once dirname(__DIR__) . '/modules/DataExportTracker/lib/Token.php';

const DXT_TOKEN_TEST_SECRET = 'dxt-test-secret-0123456789abcdef0123456789';

/**
 * The expected value was computed with Go's crypto/hmac (browser_test.go,
 * TestBeaconTokenVectorMatchesTheGoHMAC checks the same constant), not with
 * this PHP code: issuer and daemon agree byte for byte.
 */
function testTokenIssueMatchesTheGoComputedVector()
{
    $want = 'v1.5.1733343200.93eb1dfafb2689e286b969b73c2d80cbf16ee46d4410acb7946cf3f0c07b6074';
    Dxt_Assert::same($want, Dxt_Token::issue(5, DXT_TOKEN_TEST_SECRET, 1733300000), 'default ttl (12 h)');
    Dxt_Assert::same($want, Dxt_Token::issue(5, DXT_TOKEN_TEST_SECRET, 1733300000, 999999), 'ttl capped at 12 h');
    Dxt_Assert::same('v1.5.1733300060.', substr(Dxt_Token::issue(5, DXT_TOKEN_TEST_SECRET, 1733300000, 60), 0, 16), 'short ttl kept');
}

function testTokenVerifyAcceptsItsOwnTokenUntilItExpires()
{
    $now = 1733300000;
    $t = Dxt_Token::issue(42, DXT_TOKEN_TEST_SECRET, $now, 3600);
    Dxt_Assert::same(42, Dxt_Token::verify($t, DXT_TOKEN_TEST_SECRET, $now), 'fresh');
    Dxt_Assert::same(42, Dxt_Token::verify($t, DXT_TOKEN_TEST_SECRET, $now + 3599), 'a second before expiry');
    Dxt_Assert::same(null, Dxt_Token::verify($t, DXT_TOKEN_TEST_SECRET, $now + 3600), 'at expiry');
    Dxt_Assert::same($now + 3600, Dxt_Token::expiryOf($t), 'expiryOf');
}

function testTokenVerifyRefusesForgedAndTamperedTokens()
{
    $now = 1733300000;
    $t = Dxt_Token::issue(5, DXT_TOKEN_TEST_SECRET, $now);
    list($v, $uid, $exp, $mac) = explode('.', $t);
    $bad = array(
        'other user' => "v1.1.$exp.$mac",
        'longer expiry' => 'v1.5.' . ($exp + 1) . ".$mac",
        'flipped hex digit' => "v1.5.$exp." . ($mac[0] === 'a' ? 'b' : 'a') . substr($mac, 1),
        'uppercase hex' => "v1.5.$exp." . strtoupper($mac),
        'other version' => "v2.5.$exp.$mac",
        'extra part' => "$t.x",
        'missing part' => "v1.5.$mac",
        'leading zero user' => "v1.05.$exp.$mac",
        'empty' => '',
        'whitespace' => " $t",
        'newline' => "$t\n",
    );
    foreach ($bad as $what => $token) {
        Dxt_Assert::same(null, Dxt_Token::verify($token, DXT_TOKEN_TEST_SECRET, $now), $what);
    }
    Dxt_Assert::same(null, Dxt_Token::verify($t, DXT_TOKEN_TEST_SECRET . 'x', $now), 'other secret');
    Dxt_Assert::same(null, Dxt_Token::verify($t, '', $now), 'no secret');
    // Correctly signed but valid for more than 12 hours: not one we issued.
    $payload = 'v1.5.' . ($now + 43201);
    $long = $payload . '.' . hash_hmac('sha256', $payload, DXT_TOKEN_TEST_SECRET);
    Dxt_Assert::same(null, Dxt_Token::verify($long, DXT_TOKEN_TEST_SECRET, $now), 'expiry beyond 12 hours');
    Dxt_Assert::same(5, Dxt_Token::verify($long, DXT_TOKEN_TEST_SECRET, $now + 1), 'the same token once within 12 hours');
}

function testTokenIssueRefusesWhatCannotBeSigned()
{
    foreach (array(array(0, DXT_TOKEN_TEST_SECRET, 60), array(5, '', 60), array(5, DXT_TOKEN_TEST_SECRET, 0)) as $args) {
        try {
            Dxt_Token::issue($args[0], $args[1], 1733300000, $args[2]);
            Dxt_Assert::fail('issue(' . json_encode($args) . ') should fail');
        } catch (InvalidArgumentException $e) {
            // expected
        }
    }
}

function testTokenClientConfigGivesATokenOnlyWhenCopyTrackingIsOn()
{
    $now = 1733300000;
    $relay = 'index.php?module=DataExportTracker&action=Relay';
    $on = new Dxt_Config(array('beacon_secret' => DXT_TOKEN_TEST_SECRET, 'track_copy' => '1', 'copy_max_chars' => '1000'));
    $c = Dxt_Token::clientConfig($on, 5, $now, $relay);
    Dxt_Assert::true($c['enabled'], 'enabled');
    Dxt_Assert::same(5, Dxt_Token::verify($c['token'], DXT_TOKEN_TEST_SECRET, $now), 'token of the session user');
    Dxt_Assert::same($now + 43200, $c['expires'], 'expires = token expiry');
    Dxt_Assert::same('/dxtracker/api/v1/beacons', $c['beacon_url'], 'default beacon URL');
    Dxt_Assert::false($c['relay'], 'not the relay');
    Dxt_Assert::same(1000, $c['max_chars'], 'max_chars from copy_max_chars');

    $viaRelay = new Dxt_Config(array('beacon_secret' => DXT_TOKEN_TEST_SECRET, 'beacon_url' => 'relay'));
    $c = Dxt_Token::clientConfig($viaRelay, 5, $now, $relay);
    Dxt_Assert::same($relay, $c['beacon_url'], 'relay URL');
    Dxt_Assert::true($c['relay'], 'relay flag');
    $custom = new Dxt_Config(array('beacon_secret' => DXT_TOKEN_TEST_SECRET, 'beacon_url' => 'https://crm.example.com/dxt/api/v1/beacons'));
    Dxt_Assert::same('https://crm.example.com/dxt/api/v1/beacons', Dxt_Token::clientConfig($custom, 5, $now, $relay)['beacon_url'], 'configured URL');

    $cases = array(
        'copy tracking off' => new Dxt_Config(array('beacon_secret' => DXT_TOKEN_TEST_SECRET, 'track_copy' => '0')),
        'no secret' => new Dxt_Config(array('track_copy' => '1')),
        'dxt_config unreadable' => Dxt_Config::unavailable(),
    );
    foreach ($cases as $what => $config) {
        $c = Dxt_Token::clientConfig($config, 5, $now, $relay);
        Dxt_Assert::false($c['enabled'], $what);
        Dxt_Assert::same(null, $c['token'], $what . ': no token');
        Dxt_Assert::same($now + 600, $c['expires'], $what . ': ask again in 10 minutes');
    }
    Dxt_Assert::false(Dxt_Token::clientConfig($on, 0, $now, $relay)['enabled'], 'no user, no token');
}
