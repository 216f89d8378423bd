<?php
// Settings of the PHP demo (Huawei's data.php), pointed at examples/sandbox.
// Override them with the environment: SANDBOX_URL, APP_KEY, APP_SECRET.

function envOr($name, $default) {
    $v = getenv($name);
    return ($v === false || $v === '') ? $default : $v;
}

function getBaseUrl() {
    return envOr('SANDBOX_URL', 'http://127.0.0.1:8080');
}

function getCallverify_AppId() {
    return envOr('APP_KEY', 'voicetestAppKey0000000000001');
}

function getCallverify_Secret() {
    return envOr('APP_SECRET', 'voicetestAppSecret0000000001');
}
?>
