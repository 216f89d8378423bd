<?php
// Signing helpers (Huawei's util.php), written from Huawei's voice verification code API page:
// PasswordDigest = Base64(HMAC-SHA256(APP_Secret, Nonce + Created)), Created
// in UTC as Y-m-d\TH:i:s\Z, Nonce of [0-9a-f].

/**
 * buildAKSKHeader returns the value of the X-AKSK header.
 * @param string $appKey
 * @param string $appSecret
 * @return string
 */
function buildAKSKHeader($appKey, $appSecret) {
    date_default_timezone_set('UTC');
    $created = date('Y-m-d\TH:i:s\Z');
    $nonce = bin2hex(random_bytes(16));
    $digest = base64_encode(hash_hmac('sha256', $nonce . $created, $appSecret, true));
    return sprintf('UsernameToken Username="%s",PasswordDigest="%s",Nonce="%s",Created="%s"',
        $appKey, $digest, $nonce, $created);
}

/**
 * createOptions returns the stream context options of a request.
 * @param string $method
 * @param string $xaksk
 * @param string $content JSON body
 * @return array
 */
function createOptions($method, $xaksk, $content) {
    return [
        'http' => [
            'method' => $method,
            'header' => "Content-Type: application/json;charset=UTF-8\r\n" .
                "Authorization: AKSK realm=\"SDP\",profile=\"UsernameToken\",type=\"Appkey\"\r\n" .
                "X-AKSK: " . $xaksk,
            'content' => $content,
            'ignore_errors' => true, // return the platform's JSON on 4xx too
        ],
    ];
}
?>
