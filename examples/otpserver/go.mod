module github.com/voicecall-go/voicecall/examples/otpserver

go 1.24.0

require (
	github.com/stretchr/testify v1.11.1
	github.com/voicecall-go/voicecall v0.0.0
	github.com/voicecall-go/voicecall/numberpolicy v0.0.0
	github.com/voicecall-go/voicecall/redisstore v0.0.0
)

require (
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/davecgh/go-spew v1.1.1 // indirect
	github.com/google/uuid v1.6.0 // indirect
	github.com/nyaruka/phonenumbers v1.8.1 // indirect
	github.com/pmezard/go-difflib v1.0.0 // indirect
	github.com/redis/go-redis/v9 v9.22.0 // indirect
	go.uber.org/atomic v1.11.0 // indirect
	golang.org/x/sys v0.30.0 // indirect
	golang.org/x/text v0.23.0 // indirect
	google.golang.org/protobuf v1.36.11 // indirect
	gopkg.in/yaml.v3 v3.0.1 // indirect
)

replace (
	github.com/voicecall-go/voicecall => ../..
	github.com/voicecall-go/voicecall/numberpolicy => ../../numberpolicy
	github.com/voicecall-go/voicecall/redisstore => ../../redisstore
)
