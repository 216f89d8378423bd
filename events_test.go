package voicecall

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/voicecall-go/voicecall/internal/cdrbatch"
)

const seedSessionID = "1201_612_4294967295_20190124030424@callenabler245.huaweicaas.com"

func readNotification(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "notifications", name))
	require.NoError(t, err)
	return b
}

// batch50SessionIDs are the session ids of testdata/notifications/fee_batch50.json.
func batch50SessionIDs() []string {
	ids := make([]string, 50)
	for i := range ids {
		ids[i] = fmt.Sprintf("1201_%d_4294967295_20190124030424@callenabler245.huaweicaas.com", 1000+i)
	}
	return ids
}

func TestParseNotificationFixtures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file     string
		kind     NotificationKind
		event    EventType
		sessions []string
		errField string // for errors: the field the ValidationError names
	}{
		{file: "status_callout_seed.json", kind: NotificationStatus, event: EventCallout, sessions: []string{seedSessionID}},
		{file: "status_docs_example.json", kind: NotificationStatus, event: EventCallout, sessions: []string{seedSessionID}},
		{file: "status_disconnect.json", kind: NotificationStatus, event: EventDisconnect, sessions: []string{"1201_613_4294967295_20190124030455@callenabler245.huaweicaas.com"}},
		{file: "status_collectinfo.json", kind: NotificationStatus, event: EventCollectInfo, sessions: []string{"1201_700_4294967295_20190124030600@callenabler245.huaweicaas.com"}},
		{file: "status_answer_extra_fields.json", kind: NotificationStatus, event: EventAnswer, sessions: []string{seedSessionID}},
		{file: "status_double_space.json", kind: NotificationStatus, event: EventAlerting, sessions: []string{"1201_1_4294967295_20180409105742@callenabler245.huaweicaas.com"}},
		{file: "status_unix_timestamp.json", kind: NotificationStatus, event: EventAnswer, sessions: []string{"1201_2_4294967295_20190124030424@callenabler245.huaweicaas.com"}},
		{file: "status_unix_millis.json", kind: NotificationStatus, event: EventAnswer, sessions: []string{"1201_3_4294967295_20190124030424@callenabler245.huaweicaas.com"}},
		{file: "status_odd_timestamp.json", kind: NotificationStatus, event: EventDisconnect, sessions: []string{"1201_4_4294967295_20190124030424@callenabler245.huaweicaas.com"}},
		{file: "fee_seed.json", kind: NotificationFee, event: EventFee, sessions: []string{seedSessionID}},
		{file: "fee_doc_sample.json", kind: NotificationFee, event: EventFee, sessions: []string{"1201_8658_4294967295_20181018055430@callenabler245.huaweicaas.com"}},
		{file: "fee_batch50.json", kind: NotificationFee, event: EventFee, sessions: batch50SessionIDs()},
		{file: "unknown_event.json", kind: NotificationUnknown, event: "recordReady"},
		{file: "unknown_event_with_session.json", kind: NotificationUnknown, event: "playEnd"},

		{file: "bad_truncated.json", errField: "body"},
		{file: "bad_empty.json", errField: "body"},
		{file: "bad_invalid_utf8.json", errField: "body"},
		{file: "bad_deep_nested.json", errField: "body"},
		{file: "bad_not_object.json", errField: "body"},
		{file: "bad_dup_eventtype.json", errField: "eventType"},
		{file: "bad_dup_eventtype_escaped.json", errField: "eventType"},
		{file: "bad_dup_feelst.json", errField: "feeLst"},
		{file: "bad_missing_eventtype.json", errField: "eventType"},
		{file: "bad_eventtype_number.json", errField: "eventType"},
		{file: "bad_fee_missing_feelst.json", errField: "feeLst"},
		{file: "bad_fee_case_duplicate.json", errField: "feeLst[0].sessionId"},
		{file: "bad_status_repeated_member.json", errField: "statusInfo.sessionId"},
		{file: "bad_fee_repeated_member_case.json", errField: "feeLst[1].userData"},
		{file: "bad_fee_repeated_member_escaped.json", errField: "feeLst[0].sessionId"},

		// Findings of the receiver review: each of these was refused or
		// dropped, and is now delivered.
		{file: "dup_eventtype_case.json", kind: NotificationStatus, event: EventCallout, sessions: []string{"s1"}},
		{file: "fee_51.json", kind: NotificationFee, event: EventFee, sessions: sessionsOf(t, "fee_51.json")},
		{file: "fee_empty.json", kind: NotificationFee, event: EventFee},
		{file: "fee_no_session.json", kind: NotificationFee, event: EventFee, sessions: []string{"1201_1000_4294967295_20190124030424@callenabler245.huaweicaas.com", ""}},
		{file: "fee_unreadable_int.json", kind: NotificationFee, event: EventFee, sessions: sessionsOf(t, "fee_unreadable_int.json")},
		{file: "fee_eventtype_upper.json", kind: NotificationFee, event: EventFee, sessions: []string{seedSessionID}},
		{file: "fee_string_int.json", kind: NotificationFee, event: EventFee, sessions: []string{"1201_900_4294967295_20190124030500@callenabler245.huaweicaas.com"}},
		{file: "status_no_session.json", kind: NotificationStatus, event: EventAnswer, sessions: []string{""}},
		{file: "status_no_statusinfo.json", kind: NotificationStatus, event: EventDisconnect, sessions: []string{""}},
		{file: "status_statecode_bool.json", kind: NotificationStatus, event: EventDisconnect, sessions: []string{"s1"}},
		{file: "status_disconnect_mixed_case.json", kind: NotificationStatus, event: EventDisconnect, sessions: []string{"1201_613_4294967295_20190124030455@callenabler245.huaweicaas.com"}},
		{file: "status_callout_upper.json", kind: NotificationStatus, event: EventCallout, sessions: []string{seedSessionID}},
	}
	files, err := filepath.Glob(filepath.Join("testdata", "notifications", "*.json"))
	require.NoError(t, err)
	covered := map[string]bool{}
	for _, tt := range tests {
		covered[tt.file] = true
	}
	for _, f := range files {
		assert.True(t, covered[filepath.Base(f)], "fixture %s has no test case", filepath.Base(f))
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			body := readNotification(t, tt.file)
			n, err := ParseNotification(body)
			if tt.errField != "" {
				require.Error(t, err)
				var verr *ValidationError
				require.ErrorAs(t, err, &verr)
				assert.Equal(t, parseOp, verr.Op)
				assert.True(t, verr.Has(tt.errField), "error %q should name %s", err, tt.errField)
				assert.True(t, strings.HasPrefix(err.Error(), "voicecall: parse notification: invalid "+tt.errField), err.Error())
				assert.Zero(t, n.Kind)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.kind, n.Kind)
			assert.Equal(t, tt.event, n.Type())
			var got []string
			switch n.Kind {
			case NotificationStatus:
				require.NotNil(t, n.Status)
				assert.Nil(t, n.Fees)
				assert.Nil(t, n.Unknown)
				got = []string{n.Status.SessionID}
			case NotificationFee:
				assert.Nil(t, n.Status)
				for _, r := range n.Fees {
					got = append(got, r.SessionID)
				}
			case NotificationUnknown:
				require.NotNil(t, n.Unknown)
				assert.JSONEq(t, string(body), string(n.Unknown.Raw))
			}
			assert.Equal(t, tt.sessions, got)
		})
	}
}

// sessionsOf returns the sessionIds of a fixture's records, as
// encoding/json reads them.
func sessionsOf(t testing.TB, name string) []string {
	t.Helper()
	var env struct {
		FeeLst []struct {
			SessionID string `json:"sessionId"`
		} `json:"feeLst"`
	}
	require.NoError(t, json.Unmarshal(readNotification(t, name), &env))
	out := make([]string, len(env.FeeLst))
	for i, r := range env.FeeLst {
		out[i] = r.SessionID
	}
	return out
}

// TestParseFindings: each finding of the receiver review, as a parse.
func TestParseFindings(t *testing.T) {
	t.Parallel()
	// 1. eventType is matched without regard to case, and normalised.
	for _, et := range []string{"FEE", "Fee", "fee"} {
		n, err := ParseNotification([]byte(`{"eventType":"` + et + `","feeLst":[{"sessionId":"s"}]}`))
		require.NoError(t, err, et)
		assert.Equal(t, NotificationFee, n.Kind, et)
		assert.Equal(t, EventFee, n.Type(), et)
	}
	for _, et := range []string{"Callout", "DISCONNECT", "Alerting", "ANSWER", "collectinfo"} {
		n, err := ParseNotification([]byte(`{"eventType":"` + et + `","statusInfo":{"sessionId":"s"}}`))
		require.NoError(t, err, et)
		assert.Equal(t, NotificationStatus, n.Kind, et)
		assert.True(t, n.Status.Type.IsStatus(), et)
	}
	// 2. A status event without sessionId keeps its userData and stateCode.
	n, err := ParseNotification([]byte(`{"eventType":"disconnect","statusInfo":{"userData":"vc0123456789abcdef0123456789abcdef","stateCode":8101}}`))
	require.NoError(t, err)
	assert.Equal(t, "vc0123456789abcdef0123456789abcdef", n.Status.UserData)
	assert.Equal(t, StateCalleeNoAnswer, n.Status.StateCode)
	assert.Empty(t, n.Status.SessionID)
	// 4. Integers as strings; a value that is no integer loses nothing.
	n, err = ParseNotification(readNotification(t, "fee_string_int.json"))
	require.NoError(t, err)
	assert.Equal(t, ReleaseRemoteCallFailed, n.Fees[0].ULFailReason)
	assert.Equal(t, 480, n.Fees[0].SIPStatusCode)
	n, err = ParseNotification(readNotification(t, "fee_unreadable_int.json"))
	require.NoError(t, err)
	require.Len(t, n.Fees, 2)
	assert.Zero(t, n.Fees[1].ULFailReason)
	assert.JSONEq(t, `"abc"`, string(n.Fees[1].Extra["ulFailReason"]), "kept raw")
	// 4. A 51-record batch is handled whole.
	n, err = ParseNotification(readNotification(t, "fee_51.json"))
	require.NoError(t, err)
	assert.Len(t, n.Fees, 51)
	// 5. In the envelope, the exact-case name wins and the other
	// spelling is kept in Extra (inside a record, a member repeated in
	// any case is refused: TestParseRepeatedMember).
	n, err = ParseNotification([]byte(`{"eventType":"callout","EventType":"fee","statusInfo":{"sessionId":"s"}}`))
	require.NoError(t, err)
	assert.Equal(t, EventCallout, n.Type(), "the exact eventType wins")
	assert.JSONEq(t, `"fee"`, string(n.Extra["EventType"]))
	// Only a differently-cased spelling: read.
	n, err = ParseNotification([]byte(`{"EventType":"fee","FEELST":[{"SESSIONID":"s"}]}`))
	require.NoError(t, err)
	assert.Equal(t, "s", n.Fees[0].SessionID)
	// Unmodelled members of known events are kept raw, at every level.
	n, err = ParseNotification([]byte(`{"eventType":"answer","traceId":"t1","statusInfo":{"sessionId":"s","newThing":[1,2]}}`))
	require.NoError(t, err)
	assert.JSONEq(t, `[1,2]`, string(n.Status.Extra["newThing"]))
	assert.JSONEq(t, `"t1"`, string(n.Extra["traceId"]))
}

// TestParsePlainAgrees: the fast path takes the platform's usual bodies,
// leaves the rest to the general path, and both agree.
func TestParsePlainAgrees(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join("testdata", "notifications", "*.json"))
	require.NoError(t, err)
	plainCount := 0
	for _, f := range files {
		body, err := os.ReadFile(f)
		require.NoError(t, err)
		plain, ok := parsePlain(body)
		if !ok || !utf8.Valid(body) {
			continue
		}
		plainCount++
		lenient, err := parseLenient(body)
		require.NoError(t, err, f)
		assert.Equal(t, lenient, plain, f)
	}
	assert.GreaterOrEqual(t, plainCount, 8, "the usual bodies take the fast path")
	for _, body := range []string{
		`{"eventType":"fee","feeLst":[{"sessionId":"s","ulFailReason":"518"}]}`,
		`{"eventType":"fee","feeLst":[{"sessionId":"s","SessionId":"t"}]}`,
		`{"eventType":"fee","feeLst":[{"sessionId":"s","newField":1}]}`,
		`{"eventType":"fee","feeLst":[{"sessionId":"s","ulFailReason":99999999999}]}`,
		`{"eventType":"fee","feeLst":{"sessionId":"s"}}`,
		`{"eventType":"callout","statusInfo":{"sessionId":"s\u0041"}}`,
		`{"eventType":"callout","eventType":"fee"}`,
		`{"eventType":"callout","x":1}`,
		`{"eventType":"fee"}`,
		`{"eventType":""}`,
	} {
		_, ok := parsePlain([]byte(body))
		assert.False(t, ok, body)
	}
	cdr := cdrbatch.Generate(50)
	_, ok := parsePlain(cdr)
	assert.True(t, ok, "a generated batch takes the fast path")
}

// TestParseErrorsEchoNothing: a refused body's error quotes at most a
// character of it (the finding: a 900,000-digit number was echoed
// whole).
func TestParseErrorsEchoNothing(t *testing.T) {
	t.Parallel()
	huge := strings.Repeat("9", 900_000)
	for _, body := range []string{
		`{"eventType":"fee","feeLst":[{"sessionId":"s","ulFailReason":` + huge + `}]}x`,
		`{"eventType":` + huge + `}`,
		`{"eventType":"fee","feeLst":[` + huge + `]}`,
		`{"eventType":"fee","feeLst":[{"sessionId":"+8613500000001` + huge,
	} {
		_, err := ParseNotification([]byte(body))
		require.Error(t, err)
		assert.Less(t, len(err.Error()), 200, err.Error()[:min(200, len(err.Error()))])
		assert.NotContains(t, err.Error(), "99999")
		assert.NotContains(t, err.Error(), "8613500000001")
	}
	// A record whose integer is too long to read is delivered, the value
	// kept raw.
	n, err := ParseNotification([]byte(`{"eventType":"fee","feeLst":[{"sessionId":"s","ulFailReason":` + huge + `}]}`))
	require.NoError(t, err)
	assert.Len(t, n.Fees[0].Extra["ulFailReason"], len(huge))
}

func TestParseSeedCallout(t *testing.T) {
	t.Parallel()
	n, err := ParseNotification(readNotification(t, "status_callout_seed.json"))
	require.NoError(t, err)
	assert.Equal(t, &StatusEvent{
		Type:         EventCallout,
		SessionID:    seedSessionID,
		Timestamp:    time.Date(2019, 1, 24, 3, 4, 24, 0, time.UTC),
		RawTimestamp: "2019-01-24 03:04:24",
		Caller:       "+8613800000022",
		Called:       "+8613800000021",
	}, n.Status)
}

func TestParseDisconnect(t *testing.T) {
	t.Parallel()
	n, err := ParseNotification(readNotification(t, "status_disconnect.json"))
	require.NoError(t, err)
	ev := n.Status
	assert.True(t, ev.HasStateCode)
	assert.Equal(t, StateCalleeNoAnswer, ev.StateCode)
	assert.Equal(t, "callee did not answer", ev.StateCode.Description())
	assert.Equal(t, "The callee does not answer.", ev.StateDesc)
	assert.Equal(t, "vc0123456789abcdef0123456789abcdef", ev.UserData)
	assert.True(t, IsCorrelationToken(ev.UserData))
	assert.Equal(t, time.UTC, ev.Timestamp.Location())
}

func TestParseStatusEdgeCases(t *testing.T) {
	t.Parallel()
	want := time.Date(2019, 1, 24, 3, 4, 24, 0, time.UTC)

	n, err := ParseNotification(readNotification(t, "status_unix_timestamp.json"))
	require.NoError(t, err)
	assert.Equal(t, want, n.Status.Timestamp)
	assert.Equal(t, "1548299064", n.Status.RawTimestamp)
	assert.True(t, n.Status.HasStateCode, `stateCode "0" is present`)
	assert.Equal(t, StateHangUpAfterAnswer, n.Status.StateCode)

	n, err = ParseNotification(readNotification(t, "status_unix_millis.json"))
	require.NoError(t, err)
	assert.Equal(t, want, n.Status.Timestamp)

	n, err = ParseNotification(readNotification(t, "status_double_space.json"))
	require.NoError(t, err)
	assert.Equal(t, time.Date(2018, 4, 9, 10, 57, 42, 0, time.UTC), n.Status.Timestamp)
	assert.Equal(t, "2018-04-09  10:57:42", n.Status.RawTimestamp)

	// An unreadable timestamp loses nothing: zero time, raw text kept.
	n, err = ParseNotification(readNotification(t, "status_odd_timestamp.json"))
	require.NoError(t, err)
	assert.True(t, n.Status.Timestamp.IsZero())
	assert.Equal(t, "24/01/2019 03:04:24", n.Status.RawTimestamp)
	assert.True(t, n.Status.HasStateCode)

	n, err = ParseNotification(readNotification(t, "status_answer_extra_fields.json"))
	require.NoError(t, err)
	assert.Equal(t, PartyTypeCaller, n.Status.PartyType, "a numeric partyType is kept as text")
	assert.Equal(t, "+8613800000022", n.Status.DisplayCallerNum)
	assert.False(t, n.Status.HasStateCode)

	n, err = ParseNotification(readNotification(t, "status_collectinfo.json"))
	require.NoError(t, err)
	assert.Equal(t, "1#", n.Status.DigitInfo)
}

func TestParseNotificationInline(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body string
		errField   string
		kind       NotificationKind
	}{
		{name: "keys of another case are read when the exact one is absent", body: `{"EVENTTYPE":"callout","statusinfo":{"sessionId":"s"}}`, kind: NotificationStatus},
		{name: "repeated ignored member", body: `{"eventType":"callout","x":1,"x":2,"statusInfo":{"sessionId":"s"}}`, kind: NotificationStatus},
		{name: "duplicate statusInfo", body: `{"eventType":"callout","statusInfo":{"sessionId":"s"},"statusInfo":{"sessionId":"t"}}`, errField: "statusInfo"},
		{name: "two other spellings of eventType", body: `{"EventType":"callout","EVENTTYPE":"fee"}`, errField: "eventType"},
		{name: "duplicate key nested is not envelope", body: `{"eventType":"callout","statusInfo":{"sessionId":"s","x":{"eventType":1,"eventType":2}}}`, kind: NotificationStatus},
		{name: "brackets and quotes inside strings", body: `{"feeLst":[{"sessionId":"a]}\"[{","userData":"}}]]"}],"eventType":"fee"}`, kind: NotificationFee},
		{name: "brackets inside strings no escapes", body: `{"feeLst":[{"sessionId":"a]}[{","userData":"}}]]"}],"eventType":"fee","eventType":"x"}`, errField: "eventType"},
		{name: "escaped backslash before quote", body: `{"eventType":"fee","feeLst":[{"sessionId":"a\\"}],"feeLst":[]}`, errField: "feeLst"},
		{name: "empty eventType", body: `{"eventType":"","statusInfo":{"sessionId":"s"}}`, errField: "eventType"},
		{name: "null eventType", body: `{"eventType":null}`, errField: "eventType"},
		{name: "null statusInfo", body: `{"eventType":"answer","statusInfo":null}`, kind: NotificationStatus},
		{name: "statusInfo not an object", body: `{"eventType":"answer","statusInfo":"x"}`, kind: NotificationStatus},
		{name: "feeLst one object", body: `{"eventType":"fee","feeLst":{"sessionId":"s"}}`, kind: NotificationFee},
		{name: "feeLst not an array", body: `{"eventType":"fee","feeLst":"s"}`, errField: "feeLst"},
		{name: "record not an object", body: `{"eventType":"fee","feeLst":[1]}`, errField: "feeLst[0]"},
		{name: "null record skipped", body: `{"eventType":"fee","feeLst":[null]}`, kind: NotificationFee},
		{name: "record not an object after null", body: `{"eventType":"fee","feeLst":[null,"x"]}`, errField: "feeLst[1]"},
		{name: "time as number in record", body: `{"eventType":"fee","feeLst":[{"sessionId":"s","callEndTime":5}]}`, kind: NotificationFee},
		{name: "status ignores a bad feeLst", body: `{"eventType":"answer","statusInfo":{"sessionId":"s"},"feeLst":"x"}`, kind: NotificationStatus},
		{name: "fee ignores a bad statusInfo", body: `{"eventType":"fee","statusInfo":7,"feeLst":[{"sessionId":"s"}]}`, kind: NotificationFee},
		{name: "unknown tolerates anything", body: `{"eventType":"Callin","statusInfo":7,"feeLst":"x"}`, kind: NotificationUnknown},
		{name: "stateCode as string", body: `{"eventType":"disconnect","statusInfo":{"sessionId":"s","stateCode":"8001"}}`, kind: NotificationStatus},
		{name: "stateCode float kept raw", body: `{"eventType":"disconnect","statusInfo":{"sessionId":"s","stateCode":1.5}}`, kind: NotificationStatus},
		{name: "endToEndID number", body: `{"eventType":"fee","feeLst":[{"sessionId":"s","endToEndID":12345}]}`, kind: NotificationFee},
		{name: "top-level string", body: `"fee"`, errField: "body"},
		{name: "top-level null", body: `null`, errField: "body"},
		{name: "trailing garbage", body: `{"eventType":"fee"} x`, errField: "body"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			n, err := ParseNotification([]byte(tt.body))
			if tt.errField != "" {
				var verr *ValidationError
				require.ErrorAs(t, err, &verr)
				assert.True(t, verr.Has(tt.errField), "error %q should name %s", err, tt.errField)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.kind, n.Kind)
		})
	}
}

func TestParsePlatformTime(t *testing.T) {
	t.Parallel()
	want := time.Date(2019, 1, 24, 3, 4, 24, 0, time.UTC)
	good := []string{
		"2019-01-24 03:04:24", "2019-01-24  03:04:24", "2019-01-24T03:04:24", "2019-01-24T03:04:24Z",
		" 2019-01-24 03:04:24 ", "1548299064", "1548299064000",
	}
	for _, s := range good {
		got, ok := parsePlatformTime(s)
		assert.True(t, ok, s)
		assert.Equal(t, want, got, s)
	}
	leap, ok := parsePlatformTime("2020-02-29 00:00:00")
	assert.True(t, ok)
	assert.Equal(t, time.Date(2020, 2, 29, 0, 0, 0, 0, time.UTC), leap)
	bad := []string{
		"", "   ", "2019-02-29 00:00:00", "2019-13-01 00:00:00", "2019-01-32 00:00:00", "2019-01-24 24:00:00",
		"2019-01-24 03:60:00", "2019-01-24 03:04:60", "2019-01-2403:04:24", "2019/01/24 03:04:24",
		"2019-01-24 03:04", "2019-01-24 03:04:24.5", "2019-01-24 03:04:24+08:00", "x019-01-24 03:04:24",
		"12345678901234", "-1548299064", "２０１９-01-24 03:04:24",
	}
	for _, s := range bad {
		got, ok := parsePlatformTime(s)
		assert.False(t, ok, s)
		assert.True(t, got.IsZero(), s)
	}
}

func TestEventTypeIsStatus(t *testing.T) {
	t.Parallel()
	for _, et := range []EventType{EventCallout, EventAlerting, EventAnswer, EventCollectInfo, EventDisconnect} {
		assert.True(t, et.IsStatus(), et)
	}
	for _, et := range []EventType{EventFee, "", "Callout", "recordReady"} {
		assert.False(t, et.IsStatus(), et)
	}
	assert.Equal(t, "status", NotificationStatus.String())
	assert.Equal(t, "fee", NotificationFee.String())
	assert.Equal(t, "unknown", NotificationUnknown.String())
	assert.Equal(t, "NotificationKind(0)", NotificationKind(0).String())
}

func TestStateCodes(t *testing.T) {
	t.Parallel()
	// Every hang-up reason of Huawei's table.
	codes := []StateCode{0, 7001, 7002, 7003, 7004, 7005, 7100, 7105, 7106, 7107, 7108, 7109,
		8000, 8001, 8002, 8003, 8004, 8005, 8006, 8007, 8008, 8009, 8010, 8012, 8013, 8014, 8015, 8016, 8017,
		8018, 8019, 8020, 8022, 8100, 8101, 8102, 8103, 8104, 8105, 8106, 8107, 8108, 8109, 8110, 8111}
	assert.Len(t, stateDescriptions, len(codes))
	for _, c := range codes {
		assert.NotEmpty(t, c.Description(), "code %d", int(c))
		assert.True(t, strings.HasPrefix(c.String(), fmt.Sprint(int(c))+" ("), c.String())
	}
	assert.Equal(t, "8102 (callee busy)", StateCalleeBusy.String())
	assert.Equal(t, "", StateCode(9999).Description())
	assert.Equal(t, "9999", StateCode(9999).String())
}

// TestMarshalRoundTrip checks that every accepted fixture survives
// MarshalJSON and a second parse unchanged.
func TestMarshalRoundTrip(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join("testdata", "notifications", "*.json"))
	require.NoError(t, err)
	for _, f := range files {
		if strings.HasPrefix(filepath.Base(f), "bad_") {
			continue
		}
		t.Run(filepath.Base(f), func(t *testing.T) {
			t.Parallel()
			body, err := os.ReadFile(f)
			require.NoError(t, err)
			n1, err := ParseNotification(body)
			require.NoError(t, err)
			wire, err := json.Marshal(n1)
			require.NoError(t, err)
			n2, err := ParseNotification(wire)
			require.NoError(t, err, string(wire))
			if n1.Kind == NotificationUnknown {
				assert.Equal(t, n1.Unknown.Type, n2.Unknown.Type)
				assert.JSONEq(t, string(n1.Unknown.Raw), string(n2.Unknown.Raw))
				return
			}
			assert.Equal(t, n1, n2)
		})
	}
}

// TestParseRepeatedMember: a member repeated inside statusInfo or a
// record, under the same name or in another letter case, modelled or
// not, is refused with an error naming it (the handler answers 400); the
// platform never sends one. Unrelated members that merely look alike are
// not.
func TestParseRepeatedMember(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ body, field string }{
		{`{"eventType":"callout","statusInfo":{"sessionId":"a","sessionId":"b"}}`, "statusInfo.sessionId"},
		{`{"eventType":"callout","statusInfo":{"sessionId":"REAL","SessionId":"OTHER"}}`, "statusInfo.sessionId"},
		{`{"eventType":"callout","statusInfo":{"SessionId":"OTHER","sessionId":"REAL"}}`, "statusInfo.sessionId"},
		{`{"eventType":"callout","statusInfo":{"SessionId":"a","SESSIONID":"b"}}`, "statusInfo.sessionId"},
		{`{"eventType":"callout","statusInfo":{"sessionId":"","SESSIONID":"s1"}}`, "statusInfo.sessionId"},
		{`{"eventType":"callout","statusInfo":{"sessionId":"a","session\u0049d":"b"}}`, "statusInfo.sessionId"},
		{`{"eventType":"callout","statusInfo":{"sessionId":"a","sessionId":"a"}}`, "statusInfo.sessionId"},
		{`{"eventType":"disconnect","statusInfo":{"sessionId":"s","stateCode":null,"StateCode":5}}`, "statusInfo.stateCode"},
		{`{"eventType":"answer","statusInfo":{"sessionId":"s","traceId":"x","TRACEID":"y"}}`, "statusInfo.TRACEID"},
		{`{"eventType":"fee","feeLst":[{"sessionId":"a","sessionId":"b"}]}`, "feeLst[0].sessionId"},
		{`{"eventType":"fee","feeLst":[{"sessionId":"s1"},null,{"sessionId":"s","userData":"","USERDATA":"u"}]}`, "feeLst[2].userData"},
		{`{"eventType":"fee","feeLst":{"sessionId":"s","callEndTime":"x","callendtime":"y"}}`, "feeLst[0].callEndTime"},
		{`{"eventType":"fee","feeLst":[{"sessionId":"s","x":{"a":1},"x":{"a":2}}]}`, "feeLst[0].x"},
	} {
		_, err := ParseNotification([]byte(tt.body))
		var verr *ValidationError
		require.ErrorAs(t, err, &verr, tt.body)
		require.Len(t, verr.Fields, 1, tt.body)
		assert.Equal(t, tt.field, verr.Fields[0].Field, tt.body)
		assert.Contains(t, verr.Fields[0].Problem, "more than once", tt.body)
	}
	// The same name at different levels, or in two records, is no repetition.
	for _, body := range []string{
		`{"eventType":"callout","sessionId":"x","statusInfo":{"sessionId":"s","nested":{"sessionId":"t","SESSIONID":"u"}}}`,
		`{"eventType":"fee","feeLst":[{"sessionId":"a"},{"sessionId":"b","SessionIdX":"c"}]}`,
	} {
		_, err := ParseNotification([]byte(body))
		assert.NoError(t, err, body)
	}
	// And through the handler: 400, the handler's function not called.
	called := false
	h, err := NewHandler(HandlerConfig{OnStatus: func(context.Context, *StatusEvent) error { called = true; return nil }})
	require.NoError(t, err)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/notify", strings.NewReader(`{"eventType":"callout","statusInfo":{"sessionId":"a","SESSIONID":"b"}}`)))
	assert.Equal(t, http.StatusBadRequest, rec.Code)
	assert.Contains(t, rec.Body.String(), "statusInfo.sessionId")
	assert.False(t, called)
}

// TestMarshalCaseVariants: MarshalJSON refuses a statusInfo or record
// whose Extra holds a member named like a modelled one, or like another
// Extra member, in another letter case: the parser would refuse the
// body it wrote. A member of the same name replaces the modelled one.
func TestMarshalCaseVariants(t *testing.T) {
	t.Parallel()
	raw := json.RawMessage(`"x"`)
	for i, n := range []Notification{
		{Kind: NotificationStatus, Status: &StatusEvent{Type: EventCallout, Extra: map[string]json.RawMessage{"SESSIONID": raw}}},
		{Kind: NotificationStatus, Status: &StatusEvent{Type: EventCallout, SessionID: "s", Extra: map[string]json.RawMessage{"a": raw, "A": raw}}},
		{Kind: NotificationFee, Fees: []FeeRecord{{SessionID: "s"}, {SessionID: "s", Extra: map[string]json.RawMessage{"USERDATA": raw}}}},
	} {
		_, err := n.MarshalJSON()
		var verr *ValidationError
		require.ErrorAs(t, err, &verr, "case %d", i)
		assert.Contains(t, verr.Fields[0].Problem, "letter case", "case %d", i)
	}
	n := Notification{Kind: NotificationStatus, Status: &StatusEvent{Type: EventCallout, SessionID: "s", Extra: map[string]json.RawMessage{"sessionId": raw}}}
	wire, err := n.MarshalJSON()
	require.NoError(t, err)
	assert.JSONEq(t, `{"eventType":"callout","statusInfo":{"sessionId":"x"}}`, string(wire))
}

// TestMarshalBuilt checks MarshalJSON on values built by hand, as a test
// server would: times without raw text are written in the platform's
// layout.
func TestMarshalBuilt(t *testing.T) {
	t.Parallel()
	end := time.Date(2026, 3, 1, 10, 0, 5, 0, time.UTC)
	n := Notification{Kind: NotificationFee, Fees: []FeeRecord{{SessionID: "s1", CallEndTime: end, ULFailReason: ReleaseRingTimeout, ServiceType: ServiceTypeVoicePlay}}}
	wire, err := json.Marshal(n)
	require.NoError(t, err)
	assert.Contains(t, string(wire), `"callEndTime":"2026-03-01 10:00:05"`)
	back, err := ParseNotification(wire)
	require.NoError(t, err)
	assert.Equal(t, end, back.Fees[0].CallEndTime)
	assert.Equal(t, ReleaseRingTimeout, back.Fees[0].ULFailReason)

	ev := Notification{Kind: NotificationStatus, Status: &StatusEvent{Type: EventDisconnect, SessionID: "s2", Timestamp: end, StateCode: StateHangUpAfterAnswer, HasStateCode: true}}
	wire, err = json.Marshal(ev)
	require.NoError(t, err)
	assert.JSONEq(t, `{"eventType":"disconnect","statusInfo":{"sessionId":"s2","timestamp":"2026-03-01 10:00:05","stateCode":0}}`, string(wire))

	bad := []Notification{
		{},
		{Kind: NotificationStatus},
		{Kind: NotificationStatus, Status: &StatusEvent{Type: EventFee, SessionID: "s"}},
		{Kind: NotificationUnknown},
		{Kind: NotificationUnknown, Unknown: &UnknownEvent{Type: "x", Raw: json.RawMessage(`{`)}},
		{Kind: NotificationFee, Fees: []FeeRecord{{Extra: map[string]json.RawMessage{"x": json.RawMessage(`{`)}}}},
	}
	// What the parser now accepts marshals too: no sessionId, any batch
	// size, an empty batch.
	for i, n := range []Notification{
		{Kind: NotificationStatus, Status: &StatusEvent{Type: EventAnswer}},
		{Kind: NotificationFee},
		{Kind: NotificationFee, Fees: make([]FeeRecord, 51)},
		{Kind: NotificationFee, Fees: []FeeRecord{{}}},
	} {
		wire, err := n.MarshalJSON()
		require.NoError(t, err, "case %d", i)
		back, err := ParseNotification(wire)
		require.NoError(t, err, "case %d", i)
		assert.Equal(t, n.Kind, back.Kind)
		assert.Len(t, back.Fees, len(n.Fees))
	}
	for i, n := range bad {
		_, err := n.MarshalJSON()
		var verr *ValidationError
		assert.True(t, errors.As(err, &verr), "case %d: %v", i, err)
	}
}

// FuzzParseNotification: ParseNotification never panics; what it accepts
// marshals back to a body that parses to the same notification.
func FuzzParseNotification(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "notifications", "*.json"))
	if err != nil {
		f.Fatal(err)
	}
	for _, file := range files {
		if b, err := os.ReadFile(file); err == nil && len(b) < 4096 {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		n, err := ParseNotification(body)
		checkNoRecordLost(t, body, n, err)
		if utf8.Valid(body) {
			if plain, ok := parsePlain(body); ok {
				lenient, err := parseLenient(body)
				if err != nil || !assert.ObjectsAreEqual(plain, lenient) {
					t.Fatalf("fast path and general path differ:\n%+v\n%+v (%v)", plain, lenient, err)
				}
			}
		}
		if err != nil {
			var verr *ValidationError
			if !errors.As(err, &verr) || !strings.HasPrefix(err.Error(), "voicecall: parse notification: ") {
				t.Fatalf("error of the wrong form: %v", err)
			}
			if len(err.Error()) > 300 {
				t.Fatalf("error of %d bytes", len(err.Error()))
			}
			return
		}
		switch n.Kind {
		case NotificationStatus:
			if n.Status == nil || !n.Status.Type.IsStatus() {
				t.Fatalf("invalid status notification %+v", n)
			}
		case NotificationFee:
		case NotificationUnknown:
			if n.Unknown == nil || n.Unknown.Type == "" || normalizeEventType(string(n.Unknown.Type)) != n.Unknown.Type ||
				n.Unknown.Type.IsStatus() || n.Unknown.Type == EventFee {
				t.Fatalf("invalid unknown notification %+v", n)
			}
		default:
			t.Fatalf("kind %v", n.Kind)
		}
		wire, err := json.Marshal(n)
		if err != nil {
			t.Fatalf("accepted notification does not marshal: %v", err)
		}
		n2, err := ParseNotification(wire)
		if err != nil {
			t.Fatalf("marshalled notification %s does not parse: %v", wire, err)
		}
		if n.Kind == NotificationUnknown {
			if n2.Kind != NotificationUnknown || n2.Unknown.Type != n.Unknown.Type {
				t.Fatalf("unknown event changed: %+v -> %+v", n.Unknown, n2.Unknown)
			}
			return
		}
		normalizeExtra(t, &n)
		normalizeExtra(t, &n2)
		if !assert.ObjectsAreEqual(n, n2) {
			t.Fatalf("round trip changed the notification:\n%+v\n%+v", n, n2)
		}
	})
}

// checkNoRecordLost is the differential half of the fuzz target: a fee
// batch that encoding/json decodes into typed records must come out of
// ParseNotification with every record, and the same sessionIds where no
// other spelling of sessionId competes. Bodies whose envelope repeats
// eventType or feeLst (exactly, or under other letter cases) are left
// out, and so are bodies that are not valid UTF-8 (encoding/json
// replaces the bad bytes) and records that repeat a member (in any
// letter case): refusing them, or taking the exact spelling, is the
// documented strictness.
func checkNoRecordLost(t *testing.T, body []byte, n Notification, err error) {
	t.Helper()
	if !utf8.Valid(body) {
		return
	}
	var std struct {
		EventType string `json:"eventType"`
		FeeLst    []*struct {
			SessionID string `json:"sessionId"`
		} `json:"feeLst"`
	}
	if json.Unmarshal(body, &std) != nil || !strings.EqualFold(std.EventType, "fee") || std.FeeLst == nil {
		return
	}
	var env map[string]json.RawMessage
	if json.Unmarshal(body, &env) != nil || checkEnvelopeKeys(body) != nil {
		return
	}
	folded := map[string]int{}
	for k := range env {
		folded[strings.ToLower(k)]++
	}
	if folded["eventtype"] > 1 || folded["feelst"] > 1 {
		return
	}
	want := 0
	for _, r := range std.FeeLst {
		if r != nil {
			want++
		}
	}
	var verr *ValidationError
	if errors.As(err, &verr) && len(verr.Fields) == 1 && verr.Fields[0].Problem == repeatedProblem {
		return // a member repeated inside a record: refused by design
	}
	if err != nil {
		t.Fatalf("encoding/json decodes %d records, ParseNotification refuses the batch: %v", want, err)
	}
	if n.Kind != NotificationFee || len(n.Fees) != want {
		t.Fatalf("encoding/json decodes %d records, ParseNotification gives %v with %d", want, n.Kind, len(n.Fees))
	}
}

// normalizeExtra re-encodes every raw Extra value the way MarshalJSON
// writes it (compact, HTML-escaped), so that a round trip compares
// equal.
func normalizeExtra(t *testing.T, n *Notification) {
	t.Helper()
	norm := func(m map[string]json.RawMessage) {
		for k, v := range m {
			d := json.NewDecoder(bytes.NewReader(v))
			d.UseNumber()
			var x any
			if err := d.Decode(&x); err != nil {
				t.Fatalf("extra %q is not JSON: %v", k, err)
			}
			b, err := json.Marshal(x)
			if err != nil {
				t.Fatal(err)
			}
			m[k] = b
		}
	}
	norm(n.Extra)
	if n.Status != nil {
		norm(n.Status.Extra)
	}
	for i := range n.Fees {
		norm(n.Fees[i].Extra)
	}
}
