module github.com/voicecall-go/voicecall/examples/consumer

go 1.24.0

require (
	github.com/redis/go-redis/v9 v9.22.0
	github.com/stretchr/testify v1.11.1
	github.com/voicecall-go/voicecall v0.0.0
	github.com/voicecall-go/voicecall/redisstore v0.0.0
)

require (
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/davecgh/go-spew v1.1.1 // indirect
	github.com/google/uuid v1.6.0 // indirect
	github.com/pmezard/go-difflib v1.0.0 // indirect
	go.uber.org/atomic v1.11.0 // indirect
	golang.org/x/sys v0.30.0 // indirect
	gopkg.in/yaml.v3 v3.0.1 // indirect
)

replace (
	github.com/voicecall-go/voicecall => ../..
	github.com/voicecall-go/voicecall/redisstore => ../../redisstore
)
