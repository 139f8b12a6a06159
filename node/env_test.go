package node

import "os"

func lookupEnv(k string) bool { return os.Getenv(k) != "" }
