<?php
// Runs the seed's PHP sample (examples/sandbox/php/voiceVerificationCode.php,
// unchanged) CALLS times in one PHP process: including it makes the first
// call, and its function voiceVerificationCodeAPI makes the others. Each
// call opens a new TLS connection, as the sample does. The sample prints
// each answer; they are counted, and "ok=N" (answers with resultcode 0)
// is printed last. Run from examples/sandbox/php (its includes are
// relative), with SANDBOX_URL and -d openssl.cafile=CA set.
$n = intval(getenv('CALLS'));
ob_start();
include 'voiceVerificationCode.php';
for ($i = 1; $i < $n; $i++) {
    voiceVerificationCodeAPI('+8653159511234', '+8613500000001', 2, 'test.wav', '1234');
}
$out = ob_get_clean();
echo 'ok=' . substr_count($out, '"resultcode":"0"') . PHP_EOL;
?>
