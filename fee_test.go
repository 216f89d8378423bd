package voicecall

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func utc(s string) time.Time {
	t, err := time.Parse(platformTimeLayout, s)
	if err != nil {
		panic(err)
	}
	return t
}

// TestParseDocCDR checks every field of the documented real CDR sample
// (Huawei's CDR notification page).
func TestParseDocCDR(t *testing.T) {
	t.Parallel()
	n, err := ParseNotification(readNotification(t, "fee_doc_sample.json"))
	require.NoError(t, err)
	require.Len(t, n.Fees, 1)
	r := n.Fees[0]
	want := FeeRecord{
		Direction:           0,
		SPID:                "CaaS_Test_01",
		AppKey:              "skhg77MRe2gihMGHdoYOO6pkmSor",
		ICID:                "CAE-20181018135430-12016920",
		BindNum:             "+8678880002657",
		SessionID:           "1201_8658_4294967295_20181018055430@callenabler245.huaweicaas.com",
		CallerNum:           "+8696520",
		CalleeNum:           "+8613633830340",
		FwdDisplayNum:       "+8696520",
		FwdDstNum:           "+8613253332595",
		FwdStartTime:        utc("2018-10-18 05:54:51"),
		FwdAlertingTime:     utc("2018-10-18 05:54:52"),
		CallEndTime:         utc("2018-10-18 05:54:53"),
		FwdUnaswRsn:         Q850NotApplicable,
		FailTime:            utc("2018-10-18 05:54:53"),
		ULFailReason:        ReleaseRemoteCallFailed,
		SIPStatusCode:       480,
		CallOutStartTime:    utc("2018-10-18 05:54:30"),
		CallOutAlertingTime: utc("2018-10-18 05:54:36"),
		CallOutAnswerTime:   utc("2018-10-18 05:54:51"),
		CallOutUnaswRsn:     Q850NotApplicable,
		ServiceType:         ServiceTypeClick2Call,
		HostName:            "callenabler245.huaweicaas.com",
		UserData:            "lifanping",
		RawTimes: RawFeeTimes{
			FwdStartTime:        "2018-10-18 05:54:51",
			FwdAlertingTime:     "2018-10-18 05:54:52",
			CallEndTime:         "2018-10-18 05:54:53",
			FailTime:            "2018-10-18 05:54:53",
			CallOutStartTime:    "2018-10-18 05:54:30",
			CallOutAlertingTime: "2018-10-18 05:54:36",
			CallOutAnswerTime:   "2018-10-18 05:54:51",
		},
	}
	assert.Equal(t, want, r)
	assert.True(t, r.Answered())
	assert.Equal(t, 15*time.Second, r.RingDuration())
	assert.Equal(t, 2*time.Second, r.CallDuration())
	assert.Equal(t, time.Duration(0), r.ForwardDuration(), "the forwarded leg never answered")
	assert.Equal(t, "518 (the remote user's call failed (see the Q.850 cause))", r.ULFailReason.String())
	assert.Regexp(t, "^[0-9a-f]{32}$", r.DedupKey().String())
	assert.NotEqual(t, (&FeeRecord{SessionID: r.SessionID, ICID: r.ICID}).DedupKey(), r.DedupKey(), "the content is part of the key")
}

func TestParseSeedFee(t *testing.T) {
	t.Parallel()
	n, err := ParseNotification(readNotification(t, "fee_seed.json"))
	require.NoError(t, err)
	require.Len(t, n.Fees, 1)
	r := n.Fees[0]
	assert.Equal(t, seedSessionID, r.SessionID)
	assert.Equal(t, "CAE-20190124110424-12019775", r.ICID)
	assert.True(t, r.FailTime.IsZero(), "empty failTime is the zero time")
	assert.Empty(t, r.RawTimes.FailTime)
	assert.Equal(t, utc("2019-01-24 03:04:38"), r.FwdAnswerTime)
	assert.Equal(t, 4*time.Second, r.RingDuration())
	assert.Equal(t, 18*time.Second, r.CallDuration())
	assert.Equal(t, 11*time.Second, r.ForwardDuration())
	assert.Equal(t, time.UTC, r.CallEndTime.Location())
}

func TestParseBatch50(t *testing.T) {
	t.Parallel()
	n, err := ParseNotification(readNotification(t, "fee_batch50.json"))
	require.NoError(t, err)
	require.Len(t, n.Fees, 50)
	keys := map[DedupKey]bool{}
	for i, r := range n.Fees {
		keys[r.DedupKey()] = true
		assert.Equal(t, ServiceTypeVoicePlay, r.ServiceType)
		if i%5 == 0 {
			assert.False(t, r.Answered(), i)
			assert.Equal(t, ReleaseRingTimeout, r.ULFailReason, i)
			assert.Equal(t, Q850NoAnswer, r.CallOutUnaswRsn, i)
			assert.Equal(t, time.Duration(0), r.CallDuration(), i)
			assert.Equal(t, r.FailTime.Sub(r.CallOutAlertingTime), r.RingDuration(), i)
		} else {
			assert.True(t, r.Answered(), i)
			assert.Equal(t, 5*time.Second, r.RingDuration(), i)
			assert.Equal(t, r.CallEndTime.Sub(r.CallOutAnswerTime), r.CallDuration(), i)
		}
	}
	assert.Len(t, keys, 50)
}

func TestFeeHelpersMissingTimes(t *testing.T) {
	t.Parallel()
	var r FeeRecord
	assert.False(t, r.Answered())
	assert.Zero(t, r.RingDuration())
	assert.Zero(t, r.CallDuration())
	assert.Zero(t, r.ForwardDuration())
	assert.Equal(t, (&FeeRecord{}).DedupKey(), (&FeeRecord{}).DedupKey())

	// Unreadable but present answer time still counts as answered.
	r.RawTimes.CallOutAnswerTime = "garbage"
	assert.True(t, r.Answered())

	// Times out of order never give a negative duration.
	r = FeeRecord{CallOutAlertingTime: utc("2019-01-24 03:04:30"), CallOutAnswerTime: utc("2019-01-24 03:04:20"), CallEndTime: utc("2019-01-24 03:04:10")}
	assert.Zero(t, r.RingDuration())
	assert.Zero(t, r.CallDuration())

	// Not answered, no failTime: rings until callEndTime.
	r = FeeRecord{CallOutAlertingTime: utc("2019-01-24 03:04:30"), CallEndTime: utc("2019-01-24 03:05:00")}
	assert.Equal(t, 30*time.Second, r.RingDuration())

	assert.NotEqual(t, (&FeeRecord{}).DedupKey(), (&FeeRecord{SessionID: "s"}).DedupKey())
	assert.NotEqual(t, (&FeeRecord{SessionID: "a|b", ICID: "c"}).DedupKey(), (&FeeRecord{SessionID: "a", ICID: "b|c"}).DedupKey())
}

func TestCodeTables(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "001 (voice play (verification code or notification))", ServiceTypeVoicePlay.String())
	assert.Equal(t, "click-to-call", ServiceTypeClick2Call.Description())
	assert.Equal(t, "004", ServiceType("004").String())
	assert.Equal(t, "", ServiceType("004").Description())

	// Every release point of Huawei's appendix.
	for _, p := range []ReleasePoint{0, 100, 501, 502, 503, 504, 505, 506, 507, 508, 509, 510, 512, 513, 514, 515, 516,
		517, 518, 519, 520, 521, 522, 524, 526, 527, 528, 529, 530, 539, 540, 541, 542, 550, 551, 552, 553,
		1001, 1002, 1003, 1004, 2801, 2802, 2803, 2805, 2806, 2810, 2811, 2812, 2825, 2829, 2831, 2837, 2838,
		2847, 2853, 2863, 2868, 2871, 2901, 2914, 7001, 8001, 8111} {
		assert.NotEmpty(t, p.Description(), "release point %d", int(p))
	}
	assert.Equal(t, "404 (SIP status 404 (the far end gave no Q.850 cause))", ReleasePoint(404).String())
	assert.Equal(t, "514 (ring timeout)", ReleaseRingTimeout.String())
	assert.Equal(t, "", ReleasePoint(3000).Description())
	assert.Equal(t, "3000", ReleasePoint(3000).String())

	// Every Q.850 cause of Huawei's appendix.
	for _, c := range []Q850Cause{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 16, 17, 18, 19, 20, 21, 22, 23, 25, 26, 27, 28, 29, 30, 31,
		34, 38, 39, 40, 41, 42, 43, 44, 46, 47, 49, 50, 53, 55, 57, 58, 62, 63, 65, 66, 69, 70, 79, 81, 82, 83, 84, 85,
		86, 87, 88, 90, 91, 95, 96, 97, 98, 99, 100, 101, 102, 103, 110, 111, 127} {
		assert.NotEmpty(t, c.Description(), "cause %d", int(c))
	}
	assert.Equal(t, "17 (user busy)", Q850UserBusy.String())
	assert.Equal(t, "200", Q850Cause(200).String())
}
