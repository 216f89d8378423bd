//go:build !race

package voicecall

const raceEnabled = false
