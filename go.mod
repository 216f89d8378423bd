module github.com/voicecall-go/voicecall

go 1.24.0

require github.com/google/uuid v1.6.0

require (
	github.com/kr/text v0.2.0 // indirect
	go.uber.org/goleak v1.3.0
)

require (
	github.com/davecgh/go-spew v1.1.1 // indirect
	github.com/pmezard/go-difflib v1.0.0 // indirect
	github.com/stretchr/testify v1.11.1
	gopkg.in/yaml.v3 v3.0.1 // indirect
)
