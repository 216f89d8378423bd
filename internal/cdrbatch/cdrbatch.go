// Package cdrbatch generates CDR (fee) notification bodies for the
// benchmarks and the load program: deterministic batches in which every
// record carries every FeeInfo field the platform documents for voice
// verification (Huawei's CDR notification page), with realistic values.
package cdrbatch

import (
	"encoding/json"
	"fmt"
	"time"
)

// feeInfo is one documented FeeInfo, in the documentation's field order.
type feeInfo struct {
	Direction           int    `json:"direction"`
	SPID                string `json:"spId"`
	AppKey              string `json:"appKey"`
	ICID                string `json:"icid"`
	BindNum             string `json:"bindNum"`
	SessionID           string `json:"sessionId"`
	CallerNum           string `json:"callerNum"`
	CalleeNum           string `json:"calleeNum"`
	CallEndTime         string `json:"callEndTime"`
	FwdUnaswRsn         int    `json:"fwdUnaswRsn"`
	FailTime            string `json:"failTime"`
	ULFailReason        int    `json:"ulFailReason"`
	SIPStatusCode       int    `json:"sipStatusCode"`
	CallOutStartTime    string `json:"callOutStartTime"`
	CallOutAlertingTime string `json:"callOutAlertingTime"`
	CallOutAnswerTime   string `json:"callOutAnswerTime"`
	CallOutUnaswRsn     int    `json:"callOutUnaswRsn"`
	DynIVRStartTime     string `json:"dynIVRStartTime"`
	DynIVRPath          string `json:"dynIVRPath"`
	RecordFlag          int    `json:"recordFlag"`
	TTSPlayTimes        int    `json:"ttsPlayTimes"`
	TTSTransDuration    int    `json:"ttsTransDuration"`
	ServiceType         string `json:"serviceType"`
	HostName            string `json:"hostName"`
	UserData            string `json:"userData"`
}

// Fields is how many members each generated record has: every field of
// the documented FeeInfo.
const Fields = 25

// Generate returns {"eventType":"fee","feeLst":[...]} with n records.
// The records share their callEndTime, as the platform merges CDRs with
// the same end time into one batch; two in three were answered, the
// others rang out (ulFailReason 514, SIP 480, Q.850 cause 19). Record i
// has sessionId SessionID(i). The output depends only on n.
func Generate(n int) []byte {
	const layout = "2006-01-02 15:04:05"
	end := time.Date(2026, 3, 14, 7, 30, 0, 0, time.UTC)
	recs := make([]feeInfo, n)
	for i := range recs {
		start := end.Add(-time.Duration(20+i%40) * time.Second)
		r := feeInfo{
			SPID:                "CaaS_Test_01",
			AppKey:              "ka4kESI5s3YyurL1wpx63s9YnEm2",
			ICID:                fmt.Sprintf("CAE-20260314153000-%08d", 12019800+i),
			BindNum:             "+8675512345678",
			SessionID:           SessionID(i),
			CallerNum:           "+8675528000088",
			CalleeNum:           fmt.Sprintf("+86135%08d", 1000*i+7919),
			CallEndTime:         end.Format(layout),
			CallOutStartTime:    start.Format(layout),
			CallOutAlertingTime: start.Add(3 * time.Second).Format(layout),
			DynIVRStartTime:     start.Add(9 * time.Second).Format(layout),
			DynIVRPath:          "0-2-3",
			TTSPlayTimes:        1,
			TTSTransDuration:    1,
			ServiceType:         "001",
			HostName:            "callenabler245.huaweicaas.com",
			UserData:            fmt.Sprintf("vc%032x", 0xabc000+i),
		}
		if i%3 == 2 {
			r.FailTime = end.Format(layout)
			r.ULFailReason, r.SIPStatusCode, r.CallOutUnaswRsn = 514, 480, 19
		} else {
			r.CallOutAnswerTime = start.Add(8 * time.Second).Format(layout)
		}
		recs[i] = r
	}
	// Marshalling strings and ints cannot fail.
	body, _ := json.Marshal(struct {
		EventType string    `json:"eventType"`
		FeeLst    []feeInfo `json:"feeLst"`
	}{"fee", recs})
	return body
}

// SessionID returns the sessionId of record i of a generated batch.
func SessionID(i int) string {
	return fmt.Sprintf("1201_%d_4294967295_20260314073000@callenabler245.huaweicaas.com", 1000+i)
}
