package voicecall

import (
	"encoding/json"
	"strconv"
	"time"
)

// FeeRecord is one CDR (call detail record, 话单) of a fee notification
// (Huawei's CDR notification page). The platform pushes one CDR per call when the
// call ends, merges CDRs with the same end time into batches of up to 50,
// and re-pushes a batch up to 6 times, an hour apart, until it is answered
// with 200: handle records idempotently (the [Handler] de-duplicates them
// by [FeeRecord.DedupKey]).
//
// Times are in UTC (the platform's documents: "+8 hours for Beijing
// time") and are the zero time when absent or unreadable; RawTimes holds
// them as sent. Integers the platform left out are 0. Phone numbers are in
// global format and are personal data: mask them before logging.
type FeeRecord struct {
	// Direction (direction) is the call direction seen from the platform:
	// 0 outgoing (always, for voice verification), 1 incoming.
	Direction int
	// SPID (spId) is the customer's cloud account.
	SPID string
	// AppKey (appKey) is the app's key.
	AppKey string
	// ICID (icid) is the unique call-record id, e.g.
	// "CAE-20181018135430-12016920"; may be empty.
	ICID string
	// BindNum (bindNum) is the fixed number that originated the call.
	BindNum string
	// SessionID (sessionId) identifies the call, as in the CallVerify
	// response and the status events. The platform always sends it; a
	// record without it is delivered anyway.
	SessionID string
	// CallerNum (callerNum) is the calling number: for voice verification
	// the display number the app set.
	CallerNum string
	// CalleeNum (calleeNum) is the called number (the "A" number).
	CalleeNum string

	// CallEndTime (callEndTime) is when the call ended.
	CallEndTime time.Time
	// FailTime (failTime) is when the call failed, if it did.
	FailTime time.Time
	// CallOutStartTime (callOutStartTime) is when the platform started
	// dialling the callee.
	CallOutStartTime time.Time
	// CallOutAlertingTime (callOutAlertingTime) is when the callee's
	// phone started ringing.
	CallOutAlertingTime time.Time
	// CallOutAnswerTime (callOutAnswerTime) is when the callee answered;
	// zero if the call was not answered.
	CallOutAnswerTime time.Time
	// DynIVRStartTime (dynIVRStartTime) is when the dynamic IVR started
	// (voice notification only).
	DynIVRStartTime time.Time

	// FwdUnaswRsn (fwdUnaswRsn) is the Q.850 cause of a failed forward
	// (click-to-call).
	FwdUnaswRsn Q850Cause
	// ULFailReason (ulFailReason) is where the call was released
	// ("拆线点"); 0 is a normal hang-up after the call was connected.
	ULFailReason ReleasePoint
	// SIPStatusCode (sipStatusCode) is the SIP status of a failed call,
	// e.g. 480; 0 when none.
	SIPStatusCode int
	// CallOutUnaswRsn (callOutUnaswRsn) is the Q.850 cause of a failed
	// call-out; 0 when not applicable.
	CallOutUnaswRsn Q850Cause

	// DynIVRPath (dynIVRPath) is the key path through the dynamic IVR,
	// e.g. "0-2-3" (voice notification only).
	DynIVRPath string
	// RecordFlag (recordFlag) is 1 when the call was recorded, else 0.
	RecordFlag int
	// TTSPlayTimes (ttsPlayTimes) is how many times text-to-speech was
	// used.
	TTSPlayTimes int
	// TTSTransDuration (ttsTransDuration) is the total text-to-speech
	// conversion time, in seconds.
	TTSTransDuration int
	// ServiceType (serviceType) is the kind of service: "001" for voice
	// verification and voice notification, "002" for click-to-call.
	ServiceType ServiceType
	// HostName (hostName) is the platform host that produced the CDR.
	HostName string
	// UserData (userData) echoes the userData of the request (see
	// [StatusEvent.UserData]).
	UserData string

	// Fields sent in other scenarios (click-to-call, recording,
	// conferences) that the platform may include.

	// OrigCalleeNum (origCalleeNum) is the original called number.
	OrigCalleeNum string
	// FwdDisplayNum (fwdDisplayNum) is the number shown on the forwarded
	// leg (click-to-call).
	FwdDisplayNum string
	// FwdDstNum (fwdDstNum) is the number the call was forwarded to
	// (click-to-call).
	FwdDstNum string
	// CallInTime (callInTime) is when an incoming call arrived.
	CallInTime time.Time
	// FwdStartTime (fwdStartTime) is when the forward started.
	FwdStartTime time.Time
	// FwdAlertingTime (fwdAlertingTime) is when the forwarded leg rang.
	FwdAlertingTime time.Time
	// FwdAnswerTime (fwdAnswerTime) is when the forwarded leg answered.
	FwdAnswerTime time.Time
	// RecordStartTime (recordStartTime) is when recording started.
	RecordStartTime time.Time
	// RecordObjectName (recordObjectName) is the recording's file name.
	RecordObjectName string
	// RecordBucketName (recordBucketName) is the recording's directory.
	RecordBucketName string
	// RecordDomain (recordDomain) is the domain that stores the recording.
	RecordDomain string
	// RecordFileDownloadURL (recordFileDownloadUrl) is the recording's
	// download address.
	RecordFileDownloadURL string
	// RecordPushURL (recordPushURL) is where the recording is pushed.
	RecordPushURL string
	// CreateMptyTime (createMptyTime) is when a conference was created.
	CreateMptyTime time.Time
	// JoinMptyTime (joinMptyTime) is when the call joined a conference.
	JoinMptyTime time.Time
	// MptyID (mptyId) identifies the conference.
	MptyID string
	// EndToEndID (endToEndID) is an end-to-end call id; a JSON number is
	// kept as its text.
	EndToEndID string

	// RawTimes holds every time field exactly as sent ("" when absent).
	RawTimes RawFeeTimes

	// Extra holds, raw, the FeeInfo members the SDK does not model,
	// members it models whose value it could not read as their type, and
	// differently-cased duplicates of modelled members (nil when none).
	Extra map[string]json.RawMessage
}

// RawFeeTimes holds the time fields of a CDR as the platform sent them,
// normally "yyyy-MM-dd HH:mm:ss" in UTC. The JSON tags are the wire names.
type RawFeeTimes struct {
	CallEndTime         string `json:"callEndTime,omitempty"`         // raw FeeRecord.CallEndTime
	FailTime            string `json:"failTime,omitempty"`            // raw FeeRecord.FailTime
	CallOutStartTime    string `json:"callOutStartTime,omitempty"`    // raw FeeRecord.CallOutStartTime
	CallOutAlertingTime string `json:"callOutAlertingTime,omitempty"` // raw FeeRecord.CallOutAlertingTime
	CallOutAnswerTime   string `json:"callOutAnswerTime,omitempty"`   // raw FeeRecord.CallOutAnswerTime
	DynIVRStartTime     string `json:"dynIVRStartTime,omitempty"`     // raw FeeRecord.DynIVRStartTime
	CallInTime          string `json:"callInTime,omitempty"`          // raw FeeRecord.CallInTime
	FwdStartTime        string `json:"fwdStartTime,omitempty"`        // raw FeeRecord.FwdStartTime
	FwdAlertingTime     string `json:"fwdAlertingTime,omitempty"`     // raw FeeRecord.FwdAlertingTime
	FwdAnswerTime       string `json:"fwdAnswerTime,omitempty"`       // raw FeeRecord.FwdAnswerTime
	RecordStartTime     string `json:"recordStartTime,omitempty"`     // raw FeeRecord.RecordStartTime
	CreateMptyTime      string `json:"createMptyTime,omitempty"`      // raw FeeRecord.CreateMptyTime
	JoinMptyTime        string `json:"joinMptyTime,omitempty"`        // raw FeeRecord.JoinMptyTime
}

// Answered reports whether the callee answered: the CDR carries a
// callOutAnswerTime.
func (r *FeeRecord) Answered() bool {
	return !r.CallOutAnswerTime.IsZero() || r.RawTimes.CallOutAnswerTime != ""
}

// RingDuration returns how long the callee's phone rang: from
// callOutAlertingTime to callOutAnswerTime when answered, else to
// failTime or, without it, callEndTime. It is 0 when the phone did not
// ring or a time is missing.
func (r *FeeRecord) RingDuration() time.Duration {
	if r.CallOutAlertingTime.IsZero() {
		return 0
	}
	end := r.CallOutAnswerTime
	if end.IsZero() {
		end = r.FailTime
	}
	if end.IsZero() {
		end = r.CallEndTime
	}
	return positiveSince(r.CallOutAlertingTime, end)
}

// CallDuration returns how long the call lasted after the callee
// answered: callEndTime − callOutAnswerTime, 0 when not answered. The
// platform documents this formula only for click-to-call
// ("(callEndTime-fwdAnswerTime)/60=通话分钟数", see [FeeRecord.ForwardDuration]);
// for voice verification callEndTime − callOutAnswerTime is the
// equivalent, UNCONFIRMED by Huawei. The platform bills whole started
// minutes; round up yourself if you need its figure.
func (r *FeeRecord) CallDuration() time.Duration {
	if r.CallOutAnswerTime.IsZero() || r.CallEndTime.IsZero() {
		return 0
	}
	return positiveSince(r.CallOutAnswerTime, r.CallEndTime)
}

// ForwardDuration returns how long the forwarded leg of a click-to-call
// lasted: callEndTime − fwdAnswerTime, the formula Huawei's FAQ gives for
// call minutes; 0 when the forwarded leg was not answered.
func (r *FeeRecord) ForwardDuration() time.Duration {
	if r.FwdAnswerTime.IsZero() || r.CallEndTime.IsZero() {
		return 0
	}
	return positiveSince(r.FwdAnswerTime, r.CallEndTime)
}

func positiveSince(from, to time.Time) time.Duration {
	if to.IsZero() || !to.After(from) {
		return 0
	}
	return to.Sub(from)
}

// ServiceType is a CDR's serviceType. Values other than the documented
// ones are kept verbatim.
type ServiceType string

// Service types documented for Voice Call.
const (
	// ServiceTypeVoicePlay ("001", 语音播放) is voice verification and
	// voice notification.
	ServiceTypeVoicePlay ServiceType = "001"
	// ServiceTypeClick2Call ("002", 语音回呼) is click-to-call (click2Call).
	ServiceTypeClick2Call ServiceType = "002"
)

// Description returns "voice play (verification code or notification)",
// "click-to-call", or "" for other values.
func (s ServiceType) Description() string {
	switch s {
	case ServiceTypeVoicePlay:
		return "voice play (verification code or notification)"
	case ServiceTypeClick2Call:
		return "click-to-call"
	}
	return ""
}

// String returns the value with its description, e.g. "001 (voice play
// (verification code or notification))", or the bare value.
func (s ServiceType) String() string {
	if d := s.Description(); d != "" {
		return string(s) + " (" + d + ")"
	}
	return string(s)
}

// ReleasePoint is a CDR's ulFailReason: where the platform released the
// call ("呼叫拆线点", Huawei's appendix of release points). Values 400-699 without their
// own entry are SIP status codes sent when the far end gave no Q.850
// cause; values of the hang-up-reason table ([StateCode]) also occur.
type ReleasePoint int

// Release points that applications commonly branch on; [ReleasePoint.Description]
// knows the whole documented table.
const (
	ReleaseHangUpAfterAnswer ReleasePoint = 0    // 接通后主动挂机
	ReleaseNoDigitsCollected ReleasePoint = 100  // 放音收号时系统接收到的号码为空
	ReleaseCallTimeout       ReleasePoint = 513  // 呼叫超时
	ReleaseRingTimeout       ReleasePoint = 514  // 振铃超时
	ReleaseRemoteCancel      ReleasePoint = 515  // 远端用户主动Cancel
	ReleaseLocalCancel       ReleasePoint = 516  // 本端用户主动Cancel
	ReleasePlatformTimeout   ReleasePoint = 517  // 平台响应超时
	ReleaseRemoteCallFailed  ReleasePoint = 518  // 远端用户呼叫失败 (see the Q.850 cause)
	ReleaseRemoteNotRinging  ReleasePoint = 521  // 远端呼叫还未振铃已经拆线
	ReleaseNoVoicePorts      ReleasePoint = 522  // 语音端口不足
	ReleaseAudioFileMissing  ReleasePoint = 524  // 放音文件不存在
	ReleaseAppKeyNotFound    ReleasePoint = 529  // appkey不存在
	ReleaseUserHangUp        ReleasePoint = 1002 // 用户主动挂机
	ReleaseSPHangUp          ReleasePoint = 1003 // SP调用总机释放接口挂机
	ReleasePlaybackTimeout   ReleasePoint = 2812 // 放音超时
	ReleaseInviteTimeout     ReleasePoint = 2838 // INVITE超时释放
)

var releaseDescriptions = map[ReleasePoint]string{
	0:    "hung up after the call was connected",
	100:  "no digits received while collecting key presses (none within 5 s)",
	501:  "recording: creating the conference failed",
	502:  "recording: creating the conference timed out",
	503:  "recording: the caller failed to join the conference",
	504:  "recording: the caller timed out joining the conference",
	505:  "recording: adding the recording endpoint failed",
	506:  "recording: adding the recording endpoint timed out",
	507:  "starting the recording failed",
	508:  "starting the recording timed out",
	509:  "playing the recording announcement failed",
	510:  "playing the recording announcement timed out",
	512:  "call released by a recording VCU switchover",
	513:  "call timeout",
	514:  "ring timeout",
	515:  "the remote user cancelled",
	516:  "the local user cancelled",
	517:  "platform response timeout",
	518:  "the remote user's call failed (see the Q.850 cause)",
	519:  "the local user's call failed (0XX)",
	520:  "the local user's call failed (18X)",
	521:  "released before the remote end rang",
	522:  "not enough voice ports",
	524:  "audio file not found",
	526:  "mute failed",
	527:  "unmute failed",
	528:  "calls to numbers without a permitted prefix are restricted",
	529:  "app key not found",
	530:  "the caller hung up before the forward",
	539:  "recording unfinished: the caller hung up",
	540:  "recording unfinished: the callee hung up",
	541:  "renegotiation with the caller failed after the callee answered",
	542:  "call released on recording timeout",
	550:  "local ringing failed",
	551:  "click-to-call: the local end received a 0XX message",
	552:  "the local user hung up while the remote end was ringing",
	553:  "the local user hung up before the remote end rang",
	1001: "the agent hung up",
	1002: "the user hung up",
	1003: "hung up through the SP's switchboard release API",
	1004: "the agent blind-transferred and hung up after a click-to-call",
	2801: "IVR playback failed",
	2802: "invalid IVR rule",
	2803: "IVR key presses exceeded the maximum",
	2805: "IVR outside service hours",
	2806: "IVR outside service hours",
	2810: "no MRF configured",
	2811: "no ICSCF configured",
	2812: "playback timeout",
	2825: "satisfaction survey ended",
	2829: "the extension called was busy or did not answer",
	2831: "enterprise incoming-call license limit",
	2837: "playback failed",
	2838: "released on INVITE timeout",
	2847: "switchboard: no agent available",
	2853: "agent unavailable, incoming call rejected",
	2863: "voice mail: creating the recording failed",
	2868: "enterprise suspended",
	2871: "dynamic IVR: timed out waiting for the SP's instruction",
}

// Description returns an English description of the release point:
// its entry in the documented table, the SIP status for 400-699, the
// hang-up reason for codes of that table, "recording failed" for
// 2901-2914, or "" for an unknown value.
func (p ReleasePoint) Description() string {
	if d, ok := releaseDescriptions[p]; ok {
		return d
	}
	switch {
	case p >= 400 && p <= 699:
		return "SIP status " + strconv.Itoa(int(p)) + " (the far end gave no Q.850 cause)"
	case p >= 2901 && p <= 2914:
		return "recording failed"
	}
	return StateCode(p).Description()
}

// String returns the value with its description, e.g. "514 (ring
// timeout)", or the bare number.
func (p ReleasePoint) String() string {
	if d := p.Description(); d != "" {
		return strconv.Itoa(int(p)) + " (" + d + ")"
	}
	return strconv.Itoa(int(p))
}

// Q850Cause is an ITU-T Q.850 cause value, as in a CDR's fwdUnaswRsn and
// callOutUnaswRsn (Huawei's appendix of Q.850 causes); 0 means not
// applicable.
type Q850Cause int

// Q.850 causes that applications commonly branch on; [Q850Cause.Description]
// knows every value of the platform's table.
const (
	Q850NotApplicable       Q850Cause = 0   // 不涉及
	Q850UnallocatedNumber   Q850Cause = 1   // 无法找到号码
	Q850NoRouteToDest       Q850Cause = 3   // 无法路由到目的地
	Q850NormalClearing      Q850Cause = 16  // 正常呼叫清除
	Q850UserBusy            Q850Cause = 17  // 用户忙
	Q850NoUserResponding    Q850Cause = 18  // 无应答
	Q850NoAnswer            Q850Cause = 19  // 无用户应答
	Q850SubscriberAbsent    Q850Cause = 20  // 用户不可及
	Q850CallRejected        Q850Cause = 21  // 拒绝呼叫
	Q850NumberChanged       Q850Cause = 22  // 号码已改变
	Q850DestOutOfOrder      Q850Cause = 27  // 目标无序
	Q850InvalidNumberFormat Q850Cause = 28  // 非法号码格式
	Q850NormalUnspecified   Q850Cause = 31  // 正常
	Q850NoCircuitAvailable  Q850Cause = 34  // 路由不可达
	Q850NetworkOutOfOrder   Q850Cause = 38  // 网络状态不好
	Q850TemporaryFailure    Q850Cause = 41  // 暂时失败
	Q850Congestion          Q850Cause = 42  // 设备拥塞
	Q850RecoveryOnTimer     Q850Cause = 102 // 定时器超时
	Q850Interworking        Q850Cause = 127 // 未指定的交互
)

var q850Descriptions = map[Q850Cause]string{
	0:   "not applicable",
	1:   "unallocated (unassigned) number",
	2:   "no route to specified transit network",
	3:   "no route to destination",
	4:   "send special information tone",
	5:   "misdialled trunk prefix",
	6:   "channel unacceptable",
	7:   "call awarded and being delivered in an established channel",
	8:   "preemption",
	9:   "preemption, circuit reserved for reuse",
	16:  "normal call clearing",
	17:  "user busy",
	18:  "no user responding",
	19:  "no answer from user (user alerted)",
	20:  "subscriber absent",
	21:  "call rejected",
	22:  "number changed",
	23:  "redirection to new destination",
	25:  "exchange routing error",
	26:  "non-selected user clearing",
	27:  "destination out of order",
	28:  "invalid number format (address incomplete)",
	29:  "facility rejected",
	30:  "response to STATUS ENQUIRY",
	31:  "normal, unspecified",
	34:  "no circuit/channel available",
	38:  "network out of order",
	39:  "permanent frame mode connection out of service",
	40:  "permanent frame mode connection operational",
	41:  "temporary failure",
	42:  "switching equipment congestion",
	43:  "access information discarded",
	44:  "requested circuit/channel not available",
	46:  "precedence call blocked",
	47:  "resource unavailable, unspecified",
	49:  "quality of service not available",
	50:  "requested facility not subscribed",
	53:  "outgoing calls barred within CUG",
	55:  "incoming calls barred within CUG",
	57:  "bearer capability not authorized",
	58:  "bearer capability not presently available",
	62:  "inconsistency in designated outgoing access information and subscriber class",
	63:  "service or option not available, unspecified",
	65:  "bearer capability not implemented",
	66:  "channel type not implemented",
	69:  "requested facility not implemented",
	70:  "only restricted digital information bearer capability is available",
	79:  "service or option not implemented, unspecified",
	81:  "invalid call reference value",
	82:  "identified channel does not exist",
	83:  "a suspended call exists, but this call identity does not",
	84:  "call identity in use",
	85:  "no call suspended",
	86:  "call having the requested call identity has been cleared",
	87:  "user not member of CUG",
	88:  "incompatible destination",
	90:  "non-existent CUG",
	91:  "invalid transit network selection",
	95:  "invalid message, unspecified",
	96:  "mandatory information element is missing",
	97:  "message type non-existent or not implemented",
	98:  "message not compatible with call state or message type non-existent or not implemented",
	99:  "information element or parameter non-existent or not implemented",
	100: "invalid information element contents",
	101: "message not compatible with call state",
	102: "recovery on timer expiry",
	103: "parameter non-existent or not implemented, passed on",
	110: "message with unrecognized parameter, discarded",
	111: "protocol error, unspecified",
	127: "interworking, unspecified",
}

// Description returns the ITU-T name of the cause ("not applicable" for
// 0), or "" for a value outside the platform's table.
func (c Q850Cause) Description() string { return q850Descriptions[c] }

// String returns the value with its description, e.g. "17 (user busy)",
// or the bare number.
func (c Q850Cause) String() string {
	if d := c.Description(); d != "" {
		return strconv.Itoa(int(c)) + " (" + d + ")"
	}
	return strconv.Itoa(int(c))
}

// wireFee is one FeeInfo as MarshalJSON writes it.
type wireFee struct {
	Direction             int    `json:"direction"`
	SPID                  string `json:"spId"`
	AppKey                string `json:"appKey"`
	ICID                  string `json:"icid,omitempty"`
	BindNum               string `json:"bindNum"`
	SessionID             string `json:"sessionId"`
	CallerNum             string `json:"callerNum"`
	CalleeNum             string `json:"calleeNum"`
	FwdUnaswRsn           int    `json:"fwdUnaswRsn,omitempty"`
	ULFailReason          int    `json:"ulFailReason,omitempty"`
	SIPStatusCode         int    `json:"sipStatusCode,omitempty"`
	CallOutUnaswRsn       int    `json:"callOutUnaswRsn,omitempty"`
	DynIVRPath            string `json:"dynIVRPath,omitempty"`
	RecordFlag            int    `json:"recordFlag,omitempty"`
	TTSPlayTimes          int    `json:"ttsPlayTimes,omitempty"`
	TTSTransDuration      int    `json:"ttsTransDuration,omitempty"`
	ServiceType           string `json:"serviceType,omitempty"`
	HostName              string `json:"hostName,omitempty"`
	UserData              string `json:"userData,omitempty"`
	OrigCalleeNum         string `json:"origCalleeNum,omitempty"`
	FwdDisplayNum         string `json:"fwdDisplayNum,omitempty"`
	FwdDstNum             string `json:"fwdDstNum,omitempty"`
	RecordObjectName      string `json:"recordObjectName,omitempty"`
	RecordBucketName      string `json:"recordBucketName,omitempty"`
	RecordDomain          string `json:"recordDomain,omitempty"`
	RecordFileDownloadURL string `json:"recordFileDownloadUrl,omitempty"`
	RecordPushURL         string `json:"recordPushURL,omitempty"`
	MptyID                string `json:"mptyId,omitempty"`
	EndToEndID            string `json:"endToEndID,omitempty"`
	RawFeeTimes
}

// feeField is how one modelled FeeInfo member is read into a FeeRecord:
// str or num points at the field (a time's str is its RawTimes field).
type feeField struct {
	name string
	str  func(*FeeRecord) *string
	num  func(*FeeRecord) *int
}

// feeFields are the FeeInfo members the SDK models.
var feeFields = [...]feeField{
	{name: "direction", num: func(r *FeeRecord) *int { return &r.Direction }},
	{name: "spId", str: func(r *FeeRecord) *string { return &r.SPID }},
	{name: "appKey", str: func(r *FeeRecord) *string { return &r.AppKey }},
	{name: "icid", str: func(r *FeeRecord) *string { return &r.ICID }},
	{name: "bindNum", str: func(r *FeeRecord) *string { return &r.BindNum }},
	{name: "sessionId", str: func(r *FeeRecord) *string { return &r.SessionID }},
	{name: "callerNum", str: func(r *FeeRecord) *string { return &r.CallerNum }},
	{name: "calleeNum", str: func(r *FeeRecord) *string { return &r.CalleeNum }},
	{name: "fwdUnaswRsn", num: func(r *FeeRecord) *int { return (*int)(&r.FwdUnaswRsn) }},
	{name: "ulFailReason", num: func(r *FeeRecord) *int { return (*int)(&r.ULFailReason) }},
	{name: "sipStatusCode", num: func(r *FeeRecord) *int { return &r.SIPStatusCode }},
	{name: "callOutUnaswRsn", num: func(r *FeeRecord) *int { return (*int)(&r.CallOutUnaswRsn) }},
	{name: "dynIVRPath", str: func(r *FeeRecord) *string { return &r.DynIVRPath }},
	{name: "recordFlag", num: func(r *FeeRecord) *int { return &r.RecordFlag }},
	{name: "ttsPlayTimes", num: func(r *FeeRecord) *int { return &r.TTSPlayTimes }},
	{name: "ttsTransDuration", num: func(r *FeeRecord) *int { return &r.TTSTransDuration }},
	{name: "serviceType", str: func(r *FeeRecord) *string { return (*string)(&r.ServiceType) }},
	{name: "hostName", str: func(r *FeeRecord) *string { return &r.HostName }},
	{name: "userData", str: func(r *FeeRecord) *string { return &r.UserData }},
	{name: "origCalleeNum", str: func(r *FeeRecord) *string { return &r.OrigCalleeNum }},
	{name: "fwdDisplayNum", str: func(r *FeeRecord) *string { return &r.FwdDisplayNum }},
	{name: "fwdDstNum", str: func(r *FeeRecord) *string { return &r.FwdDstNum }},
	{name: "recordObjectName", str: func(r *FeeRecord) *string { return &r.RecordObjectName }},
	{name: "recordBucketName", str: func(r *FeeRecord) *string { return &r.RecordBucketName }},
	{name: "recordDomain", str: func(r *FeeRecord) *string { return &r.RecordDomain }},
	{name: "recordFileDownloadUrl", str: func(r *FeeRecord) *string { return &r.RecordFileDownloadURL }},
	{name: "recordPushURL", str: func(r *FeeRecord) *string { return &r.RecordPushURL }},
	{name: "mptyId", str: func(r *FeeRecord) *string { return &r.MptyID }},
	{name: "endToEndID", str: func(r *FeeRecord) *string { return &r.EndToEndID }},
	{name: "callEndTime", str: func(r *FeeRecord) *string { return &r.RawTimes.CallEndTime }},
	{name: "failTime", str: func(r *FeeRecord) *string { return &r.RawTimes.FailTime }},
	{name: "callOutStartTime", str: func(r *FeeRecord) *string { return &r.RawTimes.CallOutStartTime }},
	{name: "callOutAlertingTime", str: func(r *FeeRecord) *string { return &r.RawTimes.CallOutAlertingTime }},
	{name: "callOutAnswerTime", str: func(r *FeeRecord) *string { return &r.RawTimes.CallOutAnswerTime }},
	{name: "dynIVRStartTime", str: func(r *FeeRecord) *string { return &r.RawTimes.DynIVRStartTime }},
	{name: "callInTime", str: func(r *FeeRecord) *string { return &r.RawTimes.CallInTime }},
	{name: "fwdStartTime", str: func(r *FeeRecord) *string { return &r.RawTimes.FwdStartTime }},
	{name: "fwdAlertingTime", str: func(r *FeeRecord) *string { return &r.RawTimes.FwdAlertingTime }},
	{name: "fwdAnswerTime", str: func(r *FeeRecord) *string { return &r.RawTimes.FwdAnswerTime }},
	{name: "recordStartTime", str: func(r *FeeRecord) *string { return &r.RawTimes.RecordStartTime }},
	{name: "createMptyTime", str: func(r *FeeRecord) *string { return &r.RawTimes.CreateMptyTime }},
	{name: "joinMptyTime", str: func(r *FeeRecord) *string { return &r.RawTimes.JoinMptyTime }},
}

var (
	feeNames = func() []string {
		out := make([]string, len(feeFields))
		for i, f := range feeFields {
			out[i] = f.name
		}
		return out
	}()
	feeIndex = lowerIndex(feeNames)
)

// feeRecords reads a raw feeLst: an array of records, or one record.
func feeRecords(raw json.RawMessage, ambiguous bool) ([]FeeRecord, error) {
	switch {
	case ambiguous:
		return nil, parseError("feeLst", "spelled with different letter cases, none exact")
	case raw == nil || isNull(raw):
		return nil, parseError("feeLst", "missing")
	case raw[0] == '{':
		raw = append(append(json.RawMessage{'['}, raw...), ']')
	case raw[0] != '[':
		return nil, parseError("feeLst", "must be an array")
	}
	var ms []map[string]json.RawMessage
	if err := json.Unmarshal(raw, &ms); err != nil {
		var items []json.RawMessage
		_ = json.Unmarshal(raw, &items)
		for i, it := range items {
			if len(it) == 0 || (it[0] != '{' && !isNull(it)) {
				return nil, parseError("feeLst["+strconv.Itoa(i)+"]", "must be an object")
			}
		}
		return nil, parseError("feeLst", "must be an array of objects")
	}
	if err := checkRepeatedInRecords(raw, ms); err != nil {
		return nil, err
	}
	recs := make([]FeeRecord, 0, len(ms))
	vals := make([]json.RawMessage, len(feeFields))
	for _, m := range ms {
		if m == nil { // a null element carries nothing
			continue
		}
		clear(vals)
		recs = append(recs, FeeRecord{})
		recs[len(recs)-1].read(m, vals)
	}
	return recs, nil
}

// checkRepeatedInRecords refuses a record that holds a member twice (see
// checkRepeated). raw is feeLst as an array, ms its decoded records. One
// count over raw tells whether any name is repeated exactly; only then
// is each record's text looked at.
func checkRepeatedInRecords(raw json.RawMessage, ms []map[string]json.RawMessage) error {
	decoded := 0
	for _, m := range ms {
		decoded += len(m)
	}
	var items []json.RawMessage
	if countMembers(raw, 2) > decoded {
		_ = json.Unmarshal(raw, &items)
	}
	for i, m := range ms {
		var obj []byte
		n := len(m)
		if i < len(items) {
			obj, n = items[i], countMembers(items[i], 1)
		}
		if err := checkRepeated(m, n, obj, "feeLst["+strconv.Itoa(i)+"]", feeNames, feeIndex); err != nil {
			return err
		}
	}
	return nil
}

// read fills r from the members of one FeeInfo; vals is scratch space of
// len(feeFields).
func (r *FeeRecord) read(m map[string]json.RawMessage, vals []json.RawMessage) {
	r.Extra, _ = pickMembers(m, feeNames, feeIndex, vals)
	for i, v := range vals {
		if v == nil {
			continue
		}
		f := &feeFields[i]
		if f.num != nil {
			n, _, ok := readInt(v)
			if !ok {
				keepRaw(&r.Extra, f.name, v)
				continue
			}
			*f.num(r) = n
			continue
		}
		s, ok := readString(v)
		if !ok {
			keepRaw(&r.Extra, f.name, v)
			continue
		}
		*f.str(r) = s
	}
	r.parseTimes()
}

// parseTimes sets the time fields from RawTimes.
func (r *FeeRecord) parseTimes() {
	t := &r.RawTimes
	r.CallEndTime = feeTime(t.CallEndTime)
	r.FailTime = feeTime(t.FailTime)
	r.CallOutStartTime = feeTime(t.CallOutStartTime)
	r.CallOutAlertingTime = feeTime(t.CallOutAlertingTime)
	r.CallOutAnswerTime = feeTime(t.CallOutAnswerTime)
	r.DynIVRStartTime = feeTime(t.DynIVRStartTime)
	r.CallInTime = feeTime(t.CallInTime)
	r.FwdStartTime = feeTime(t.FwdStartTime)
	r.FwdAlertingTime = feeTime(t.FwdAlertingTime)
	r.FwdAnswerTime = feeTime(t.FwdAnswerTime)
	r.RecordStartTime = feeTime(t.RecordStartTime)
	r.CreateMptyTime = feeTime(t.CreateMptyTime)
	r.JoinMptyTime = feeTime(t.JoinMptyTime)
}

func feeTime(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, _ := parsePlatformTime(s)
	return t
}

// fromWire fills r from a record parsePlain decoded; it reports false
// when an integer is out of the range parseLenient reads (which then
// keeps it raw).
func (r *FeeRecord) fromWire(w *wireFee) bool {
	for _, n := range [...]int{w.Direction, w.FwdUnaswRsn, w.ULFailReason, w.SIPStatusCode, w.CallOutUnaswRsn, w.RecordFlag, w.TTSPlayTimes, w.TTSTransDuration} {
		if int64(n) != int64(int32(n)) {
			return false
		}
	}
	r.Direction = w.Direction
	r.SPID = w.SPID
	r.AppKey = w.AppKey
	r.ICID = w.ICID
	r.BindNum = w.BindNum
	r.SessionID = w.SessionID
	r.CallerNum = w.CallerNum
	r.CalleeNum = w.CalleeNum
	r.FwdUnaswRsn = Q850Cause(w.FwdUnaswRsn)
	r.ULFailReason = ReleasePoint(w.ULFailReason)
	r.SIPStatusCode = w.SIPStatusCode
	r.CallOutUnaswRsn = Q850Cause(w.CallOutUnaswRsn)
	r.DynIVRPath = w.DynIVRPath
	r.RecordFlag = w.RecordFlag
	r.TTSPlayTimes = w.TTSPlayTimes
	r.TTSTransDuration = w.TTSTransDuration
	r.ServiceType = ServiceType(w.ServiceType)
	r.HostName = w.HostName
	r.UserData = w.UserData
	r.OrigCalleeNum = w.OrigCalleeNum
	r.FwdDisplayNum = w.FwdDisplayNum
	r.FwdDstNum = w.FwdDstNum
	r.RecordObjectName = w.RecordObjectName
	r.RecordBucketName = w.RecordBucketName
	r.RecordDomain = w.RecordDomain
	r.RecordFileDownloadURL = w.RecordFileDownloadURL
	r.RecordPushURL = w.RecordPushURL
	r.MptyID = w.MptyID
	r.EndToEndID = w.EndToEndID
	r.RawTimes = w.RawFeeTimes
	r.parseTimes()
	return true
}

// wire converts r back to its wire form; see [Notification.MarshalJSON].
func (r *FeeRecord) wire() wireFee {
	t := &r.RawTimes
	return wireFee{
		Direction:             r.Direction,
		SPID:                  r.SPID,
		AppKey:                r.AppKey,
		ICID:                  r.ICID,
		BindNum:               r.BindNum,
		SessionID:             r.SessionID,
		CallerNum:             r.CallerNum,
		CalleeNum:             r.CalleeNum,
		FwdUnaswRsn:           int(r.FwdUnaswRsn),
		ULFailReason:          int(r.ULFailReason),
		SIPStatusCode:         r.SIPStatusCode,
		CallOutUnaswRsn:       int(r.CallOutUnaswRsn),
		DynIVRPath:            r.DynIVRPath,
		RecordFlag:            r.RecordFlag,
		TTSPlayTimes:          r.TTSPlayTimes,
		TTSTransDuration:      r.TTSTransDuration,
		ServiceType:           string(r.ServiceType),
		HostName:              r.HostName,
		UserData:              r.UserData,
		OrigCalleeNum:         r.OrigCalleeNum,
		FwdDisplayNum:         r.FwdDisplayNum,
		FwdDstNum:             r.FwdDstNum,
		RecordObjectName:      r.RecordObjectName,
		RecordBucketName:      r.RecordBucketName,
		RecordDomain:          r.RecordDomain,
		RecordFileDownloadURL: r.RecordFileDownloadURL,
		RecordPushURL:         r.RecordPushURL,
		MptyID:                r.MptyID,
		EndToEndID:            r.EndToEndID,
		RawFeeTimes: RawFeeTimes{
			CallEndTime:         formatPlatformTime(t.CallEndTime, r.CallEndTime),
			FailTime:            formatPlatformTime(t.FailTime, r.FailTime),
			CallOutStartTime:    formatPlatformTime(t.CallOutStartTime, r.CallOutStartTime),
			CallOutAlertingTime: formatPlatformTime(t.CallOutAlertingTime, r.CallOutAlertingTime),
			CallOutAnswerTime:   formatPlatformTime(t.CallOutAnswerTime, r.CallOutAnswerTime),
			DynIVRStartTime:     formatPlatformTime(t.DynIVRStartTime, r.DynIVRStartTime),
			CallInTime:          formatPlatformTime(t.CallInTime, r.CallInTime),
			FwdStartTime:        formatPlatformTime(t.FwdStartTime, r.FwdStartTime),
			FwdAlertingTime:     formatPlatformTime(t.FwdAlertingTime, r.FwdAlertingTime),
			FwdAnswerTime:       formatPlatformTime(t.FwdAnswerTime, r.FwdAnswerTime),
			RecordStartTime:     formatPlatformTime(t.RecordStartTime, r.RecordStartTime),
			CreateMptyTime:      formatPlatformTime(t.CreateMptyTime, r.CreateMptyTime),
			JoinMptyTime:        formatPlatformTime(t.JoinMptyTime, r.JoinMptyTime),
		},
	}
}
