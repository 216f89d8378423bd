package voicecall_test

import (
	"fmt"
	"time"

	"github.com/voicecall-go/voicecall"
)

func ExampleParseNotification() {
	body := []byte(`{"eventType":"disconnect","statusInfo":{"sessionId":"1201_613_4294967295_20190124030455@callenabler245.huaweicaas.com",` +
		`"timestamp":"2019-01-24 03:05:01","userData":"vc0123456789abcdef0123456789abcdef","stateCode":8101}}`)
	n, err := voicecall.ParseNotification(body)
	if err != nil {
		fmt.Println(err)
		return
	}
	switch n.Kind {
	case voicecall.NotificationStatus:
		ev := n.Status
		fmt.Println(ev.Type, ev.Timestamp.Format(time.RFC3339), ev.StateCode, voicecall.IsCorrelationToken(ev.UserData))
	case voicecall.NotificationFee:
		for _, rec := range n.Fees {
			fmt.Println(rec.SessionID, rec.Answered())
		}
	case voicecall.NotificationUnknown:
		fmt.Println("unknown event", n.Unknown.Type)
	}

	_, err = voicecall.ParseNotification([]byte(`{"eventType":"fee","feeLst":[{"sessionId":"s1"}`))
	fmt.Println(err)
	// Output:
	// disconnect 2019-01-24T03:05:01Z 8101 (callee did not answer) true
	// voicecall: parse notification: invalid body: invalid JSON at offset 47: unexpected end of JSON input
}

func ExampleFeeRecord() {
	body := []byte(`{"eventType":"fee","feeLst":[{"direction":0,"spId":"CaaS_Test_01","appKey":"ka4kESI5s3YyurL1wpx63s9YnEm2",` +
		`"icid":"CAE-20190124110424-12019775","bindNum":"+8675512345678","sessionId":"1201_612_4294967295_20190124030424@callenabler245.huaweicaas.com",` +
		`"callerNum":"+8675512345678","calleeNum":"+8613800000021","callEndTime":"2019-01-24 03:04:49","ulFailReason":0,` +
		`"callOutStartTime":"2019-01-24 03:04:24","callOutAlertingTime":"2019-01-24 03:04:27","callOutAnswerTime":"2019-01-24 03:04:31",` +
		`"callOutUnaswRsn":0,"serviceType":"001","userData":"vc0123456789abcdef0123456789abcdef"}]}`)
	n, err := voicecall.ParseNotification(body)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, rec := range n.Fees {
		fmt.Println("answered:", rec.Answered())
		fmt.Println("rang:", rec.RingDuration())
		fmt.Println("talked:", rec.CallDuration())
		fmt.Println("ended:", rec.CallEndTime.Format(time.RFC3339))
		fmt.Println("release:", rec.ULFailReason)
		fmt.Println("service:", rec.ServiceType)
	}
	// Output:
	// answered: true
	// rang: 4s
	// talked: 18s
	// ended: 2019-01-24T03:04:49Z
	// release: 0 (hung up after the call was connected)
	// service: 001 (voice play (verification code or notification))
}
