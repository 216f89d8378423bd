package voicecall

import "github.com/voicecall-go/voicecall/internal/redact"

// MaskNumber masks all but the last four characters of a phone number,
// the way the SDK writes numbers in its logs and errors:
// "+8613500000001" becomes "**********0001". A number of four characters
// or fewer is masked entirely; control characters in the kept digits are
// replaced by spaces. Use it wherever your application prints a number
// it received from the platform or sends to it.
func MaskNumber(s string) string { return redact.Phone(s) }

// SanitizeText makes text from the network safe to print or log: it is
// cut to at most max bytes on a character boundary ("…" is appended when
// it was cut), invalid UTF-8 becomes U+FFFD and control characters (CR
// and LF included) become spaces, so that a value cannot forge log lines.
// It does not mask phone numbers: use [MaskNumber] for those.
func SanitizeText(s string, max int) string { return redact.Text(s, max) }
