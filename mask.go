package voicecall

import "github.com/voicecall-go/voicecall/internal/redact"

// MaskNumber masks all but the last four characters of a phone number,
// the way the SDK writes numbers in its logs and errors:
// "+8613500000001" becomes "**********0001". A number of four characters
// or fewer is masked entirely; control characters in the kept digits are
// replaced by spaces. Use it wherever your application prints a number
// it received from the platform or sends to it.
func MaskNumber(s string) string { return redact.Phone(s) }
