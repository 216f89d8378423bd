package aksk_test

import (
	"fmt"
	"time"

	"github.com/voicecall-go/voicecall/aksk"
)

// The X-AKSK header of Huawei's documented example, with a known secret.
func ExampleSign() {
	sig := aksk.Sign("myAppKey", "myAppSecret", "66C92B11FF8A425FB8D4CCFE0ED9ED1F", "2018-02-12T15:30:20Z")
	fmt.Println(sig.HeaderValue())
	fmt.Println(sig) // printing redacts the digest and the nonce
	// Output:
	// UsernameToken Username="myAppKey",PasswordDigest="qDAKD6vQUHYxBBujjIJcYUT7LppgspTk74XMwDuxyz8=",Nonce="66C92B11FF8A425FB8D4CCFE0ED9ED1F",Created="2018-02-12T15:30:20Z"
	// UsernameToken Username="myAppKey",PasswordDigest="REDACTED",Nonce="REDACTED",Created="2018-02-12T15:30:20Z"
}

// A proxy checks a request's X-AKSK header: parse it, then verify the
// digest with the app's secret (and check Created and the nonce).
func ExampleVerify() {
	header := `UsernameToken Username="myAppKey", PasswordDigest="qDAKD6vQUHYxBBujjIJcYUT7LppgspTk74XMwDuxyz8=", Nonce="66C92B11FF8A425FB8D4CCFE0ED9ED1F", Created="2018-02-12T15:30:20Z"`
	sig, err := aksk.Parse(header)
	if err != nil {
		fmt.Println(err)
		return
	}
	created, _ := time.Parse(aksk.CreatedLayout, sig.Created)
	fmt.Println(sig.Username, aksk.Verify(sig, "myAppSecret"), created.Year())
	_, err = aksk.Parse(`UsernameToken Username="myAppKey"`)
	fmt.Println(err)
	// Output:
	// myAppKey true 2018
	// aksk: parse X-AKSK: PasswordDigest, Nonce, Created: missing or empty
}
