module github.com/voicecall-go/voicecall/numberpolicy

go 1.24.0

replace github.com/voicecall-go/voicecall => ..

require (
	github.com/nyaruka/phonenumbers v1.8.1
	github.com/stretchr/testify v1.11.1
	github.com/voicecall-go/voicecall v0.0.0
)

require (
	github.com/davecgh/go-spew v1.1.1 // indirect
	github.com/google/uuid v1.6.0 // indirect
	github.com/pmezard/go-difflib v1.0.0 // indirect
	golang.org/x/text v0.23.0 // indirect
	google.golang.org/protobuf v1.36.11 // indirect
	gopkg.in/yaml.v3 v3.0.1 // indirect
)
