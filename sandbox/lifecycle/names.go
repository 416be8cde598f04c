package lifecycle

import (
	"fmt"
	"math/rand/v2"
)

// Readable names for sandboxes started without --name, adjective_noun like
// docker's: easier to say aloud in a classroom than an id.
var (
	adjectives = []string{
		"agile", "bold", "brave", "bright", "calm", "clever", "cosmic", "curious",
		"daring", "eager", "fancy", "fearless", "gentle", "happy", "hungry", "jolly",
		"keen", "kind", "lively", "lucky", "mellow", "merry", "mighty", "nimble",
		"noble", "patient", "plucky", "proud", "quick", "quiet", "rapid", "serene",
		"sharp", "shiny", "silent", "sleepy", "smooth", "steady", "sunny", "swift",
		"tidy", "tiny", "vivid", "warm", "wise", "witty", "young", "zesty",
	}
	nouns = []string{
		"abacus", "atom", "badger", "beacon", "comet", "crane", "dolphin", "ember",
		"falcon", "fern", "gecko", "glacier", "harbor", "heron", "island", "kernel",
		"lantern", "lemur", "meadow", "meteor", "narwhal", "nebula", "otter", "panda",
		"pebble", "penguin", "photon", "pixel", "quasar", "raven", "reef", "river",
		"rocket", "sparrow", "summit", "tiger", "tulip", "turtle", "valley", "walrus",
		"willow", "wombat", "yak", "zebra", "pulsar", "koala", "lynx", "orca",
	}
)

// generateName returns an adjective_noun name not in taken. When unlucky
// draws keep colliding it appends a number, as docker does.
func generateName(taken map[string]bool) string {
	for i := 0; i < 64; i++ {
		n := adjectives[rand.IntN(len(adjectives))] + "_" + nouns[rand.IntN(len(nouns))]
		if !taken[n] {
			return n
		}
	}
	base := adjectives[rand.IntN(len(adjectives))] + "_" + nouns[rand.IntN(len(nouns))]
	for i := 2; ; i++ {
		if n := fmt.Sprintf("%s%d", base, i); !taken[n] {
			return n
		}
	}
}
