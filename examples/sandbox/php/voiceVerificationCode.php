<?php
// Huawei's PHP sample for the voice verification code API, verbatim from the
// developer guide (see ../../../../shared/seed/ in this project's workspace),
// except for this comment. Run it against examples/sandbox; see README.md.
?>
<?php
include 'data.php';
include 'util.php';

/**
 * voiceVerificationCodeAPI
 * @param string $displayNbr
 * @param string $calleeNbr
 * @param integer $languageType
 * @param string $preTone
 * @param string $verifyCode
 */
function voiceVerificationCodeAPI($displayNbr, $calleeNbr, $languageType, $preTone, $verifyCode) {
    if (empty($displayNbr) || empty($calleeNbr) || empty($languageType) || empty($preTone) || empty($verifyCode)) {
        return;
    }

    $method = 'POST';
    $apiUri = '/rest/httpsessions/callVerify/v1.0';
    $xaksk = buildAKSKHeader(getCallverify_AppId(), getCallverify_Secret());

    $content = json_encode([
        /* 必填参数*/
        'displayNbr' => $displayNbr,//主叫用户手机终端的来电显示号码。
        'calleeNbr' => $calleeNbr,//发起呼叫时所拨打的被叫号码。
        'languageType' => $languageType,//验证码播放的语言类型。
        'preTone' => $preTone,//播放语音验证码之前需要播放的放音文件名。
        'verifyCode' => $verifyCode//验证码:只支持0~9的数字,最大8位。
        /* 选填参数*/
//         'bindNbr' => '+86123456789', //CallEnabler业务号码,即绑定号码
//         'posTone' => 'postone.wav', //播放语音验证码之后需要播放的放音文件名
//         'times' => 3, //播放次数:0~9
//         'statusUrl' => '', //设置SP接收状态上报的URL,要求使用BASE64编码
//         'feeUrl' => '', //设置SP接收话单上报的URL,要求使用BASE64编码
//         'returnIdlePort' => 'false', //指示是否需要返回平台空闲呼叫端口数量
//         'userData' => 'customerId123' //设置用户的附属信息
    ]);

    $requestUrl = getBaseUrl() . $apiUri;
    $context_options = createOptions($method, $xaksk, $content);

    try {
        $response = file_get_contents($requestUrl, false, stream_context_create($context_options)); // 发送请求
        print_r($response . PHP_EOL); // 打印响应结果
    } catch (Exception $e) {
        echo $e->getMessage(); //打印错误信息
    }
}

voiceVerificationCodeAPI('+8653159511234', '+8613500000001', 2, 'test.wav', '1234');
?>
