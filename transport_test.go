package voicecall

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDefaultTransport(t *testing.T) {
	t.Parallel()
	c, err := NewClient("https://example.com", "k", "s")
	require.NoError(t, err)
	tr, ok := c.hc.Transport.(*http.Transport)
	require.True(t, ok)
	assert.NotNil(t, tr.TLSNextProto, "HTTP/1.1 only")
	assert.Empty(t, tr.TLSNextProto)
	tr, ok = c.hc.Transport.(*http.Transport)
	require.True(t, ok)
	assert.True(t, tr.DisableKeepAlives, "short connections by default")
	assert.False(t, tr.TLSClientConfig.InsecureSkipVerify)
	assert.NotNil(t, tr.TLSClientConfig.ClientSessionCache, "TLS resumption")
	assert.Nil(t, tr.Proxy, "the library never reads the environment")
	assert.Equal(t, defaultTLSHandshakeTimeout, tr.TLSHandshakeTimeout)
	assert.Equal(t, defaultResponseHeaderTimeout, tr.ResponseHeaderTimeout)
	assert.NotNil(t, tr.DialContext)
	assert.Equal(t, tr.TLSHandshakeTimeout, NewTransport(nil).TLSHandshakeTimeout, "NewTransport is the default transport")
}
