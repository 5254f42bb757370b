package workloads

// A CronJob's timeZone must load on every machine that validates it, the
// same way: embed the time zone database rather than trust the host's.
import _ "time/tzdata"
