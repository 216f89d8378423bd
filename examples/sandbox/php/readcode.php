<?php
// Prints the verification code the sandbox read out in its latest call to
// a number, read from the sandbox's inspection API, as a PHP test suite
// would to complete a one-time-password flow:
//
//     php examples/sandbox/php/readcode.php +8613500000001
//
// SANDBOX_URL overrides the default http://127.0.0.1:8080.
$base = getenv('SANDBOX_URL') ?: 'http://127.0.0.1:8080';
$number = $argv[1] ?? '+8613500000001';
$json = file_get_contents($base . '/_sandbox/v1/calls?limit=1&number=' . urlencode($number));
if ($json === false) {
    fwrite(STDERR, "cannot reach the sandbox at $base\n");
    exit(1);
}
$calls = json_decode($json, true)['calls'];
if (count($calls) === 0) {
    fwrite(STDERR, "no call to $number\n");
    exit(1);
}
echo $calls[count($calls) - 1]['verifyCode'], PHP_EOL;
