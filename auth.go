package voicecall

import "time"

// jsonContentType is the Content-Type the platform requires on every
// request, and the one the Handler answers with.
const jsonContentType = "application/json;charset=UTF-8"

// beijing is UTC+8, the zone some of Huawei's pages say Created is in.
var beijing = time.FixedZone("UTC+8", 8*60*60)

// BeijingTime returns the fixed UTC+8 zone (China Standard Time, no
// daylight saving). Pass it to [WithCreatedLocation] if the platform
// answers 1010013 with a correct clock; see the package documentation.
func BeijingTime() *time.Location { return beijing }
