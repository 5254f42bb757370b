package workloads

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// maxCronJobNameLength leaves room for the "-<minutes since epoch>" suffix
// of the Jobs a CronJob creates: 63 - 11.
const maxCronJobNameLength = 52

// maxIndexedParallelism caps the parallelism of an Indexed Job.
const maxIndexedParallelism = 100000

// job checks a Job.
func (c *checks) job(j *batchv1.Job) {
	c.objectMeta(&j.ObjectMeta, subdomainName)
	c.jobName(j)
	c.jobSpec(&j.Spec, specPath)
	c.jobSelector(&j.Spec)
}

// jobName: a Job's name becomes part of its pods' host names. Upstream
// warns when it is not a DNS label, and rejects an Indexed Job whose last
// pod host name (name-index) would not be one.
func (c *checks) jobName(j *batchv1.Job) {
	name := j.Name
	if name == "" || len(subdomainName(name, false)) > 0 {
		return
	}
	p := metadataPath.Child("name")
	if msgs := validation.IsDNS1123Label(name); len(msgs) > 0 {
		c.warn(p, RuleName, "this is used in Pod names and hostnames, which can result in surprising behavior; a DNS label is recommended: "+strings.Join(msgs, "; "))
		return
	}
	s := &j.Spec
	if s.CompletionMode != nil && *s.CompletionMode == batchv1.IndexedCompletion && s.Completions != nil && *s.Completions > 0 {
		host := fmt.Sprintf("%s-%d", name, *s.Completions-1)
		if len(validation.IsDNS1123Label(host)) > 0 {
			c.invalid(p, RuleName, name, "will not able to create pod with invalid DNS label: "+host)
		}
	}
}

// jobSpec checks the spec of a Job or of a CronJob's job template.
func (c *checks) jobSpec(s *batchv1.JobSpec, path *field.Path) {
	nonNegativeOptional(c, s.Parallelism, path.Child("parallelism"))
	nonNegativeOptional(c, s.Completions, path.Child("completions"))
	nonNegativeOptional(c, s.ActiveDeadlineSeconds, path.Child("activeDeadlineSeconds"))
	nonNegativeOptional(c, s.BackoffLimit, path.Child("backoffLimit"))
	nonNegativeOptional(c, s.TTLSecondsAfterFinished, path.Child("ttlSecondsAfterFinished"))
	nonNegativeOptional(c, s.BackoffLimitPerIndex, path.Child("backoffLimitPerIndex"))
	nonNegativeOptional(c, s.MaxFailedIndexes, path.Child("maxFailedIndexes"))
	c.completionMode(s, path)
	c.podReplacementPolicy(s, path)
	tp := path.Child("template")
	c.podTemplate(&s.Template, tp, jobPods)
	if s.PodFailurePolicy != nil && s.Template.Spec.RestartPolicy == corev1.RestartPolicyOnFailure {
		c.invalid(tp.Child("spec", "restartPolicy"), RuleEnum, s.Template.Spec.RestartPolicy,
			`only "Never" is supported when podFailurePolicy is specified`)
	}
}

// completionMode checks spec.completionMode and the fields that only an
// Indexed Job may use.
func (c *checks) completionMode(s *batchv1.JobSpec, path *field.Path) {
	if s.MaxFailedIndexes != nil && s.BackoffLimitPerIndex == nil {
		c.required(path.Child("backoffLimitPerIndex"), RuleRequired, "when maxFailedIndexes is specified")
	}
	mode := batchv1.NonIndexedCompletion
	if s.CompletionMode != nil {
		mode = *s.CompletionMode
	}
	switch mode {
	case batchv1.IndexedCompletion:
		if s.Completions == nil {
			c.required(path.Child("completions"), RuleRequired, "when completion mode is Indexed")
		}
		if s.Parallelism != nil && *s.Parallelism > maxIndexedParallelism {
			c.invalid(path.Child("parallelism"), RuleInvalid, *s.Parallelism,
				fmt.Sprintf("must be less than or equal to %d when completion mode is Indexed", maxIndexedParallelism))
		}
		if s.Completions != nil && s.MaxFailedIndexes != nil && *s.MaxFailedIndexes > *s.Completions {
			c.invalid(path.Child("maxFailedIndexes"), RuleInvalid, *s.MaxFailedIndexes, "must be less than or equal to completions")
		}
	case batchv1.NonIndexedCompletion:
		if s.BackoffLimitPerIndex != nil {
			c.invalid(path.Child("backoffLimitPerIndex"), RuleInvalid, *s.BackoffLimitPerIndex, "requires indexed completion mode")
		}
		if s.MaxFailedIndexes != nil {
			c.invalid(path.Child("maxFailedIndexes"), RuleInvalid, *s.MaxFailedIndexes, "requires indexed completion mode")
		}
		if s.SuccessPolicy != nil {
			c.invalid(path.Child("successPolicy"), RuleInvalid, s.SuccessPolicy, "requires indexed completion mode")
		}
	default:
		unsupportedValue(c, path.Child("completionMode"), RuleEnum, mode, batchv1.NonIndexedCompletion, batchv1.IndexedCompletion)
	}
}

// podReplacementPolicy checks spec.podReplacementPolicy: with a pod
// failure policy only Failed is allowed.
func (c *checks) podReplacementPolicy(s *batchv1.JobSpec, path *field.Path) {
	if s.PodReplacementPolicy == nil {
		return
	}
	p, v := path.Child("podReplacementPolicy"), *s.PodReplacementPolicy
	switch {
	case s.PodFailurePolicy != nil && v != batchv1.Failed:
		unsupportedValue(c, p, RuleEnum, v, batchv1.Failed)
	case v != batchv1.Failed && v != batchv1.TerminatingOrFailed:
		unsupportedValue(c, p, RuleEnum, v, batchv1.Failed, batchv1.TerminatingOrFailed)
	}
}

// generatedSelectorKeys are the label keys of the selector Kubernetes
// generates for a Job; a selector holding one came from defaulting.
var generatedSelectorKeys = []string{batchv1.ControllerUidLabel, "controller-uid"}

// jobSelector checks spec.selector of a Job. Kubernetes generates it (from
// the Job's uid) unless spec.manualSelector is true; a hand-written
// selector without manualSelector is rejected.
func (c *checks) jobSelector(s *batchv1.JobSpec) {
	path := specPath.Child("selector")
	manual := s.ManualSelector != nil && *s.ManualSelector
	switch {
	case s.Selector == nil && manual:
		c.required(path, RuleSelectorMissing, "required when `manualSelector` is true")
		return
	case s.Selector == nil:
		return
	case !manual && !isGeneratedJobSelector(s.Selector.MatchLabels):
		c.invalid(path, RuleInvalid, s.Selector, "`selector` not auto-generated (set `manualSelector: true` to use your own selector, or remove it)")
		return
	}
	c.labelSelector(s.Selector, path)
	c.selectorMatchesTemplate(s.Selector, &s.Template, specPath)
}

func isGeneratedJobSelector(matchLabels map[string]string) bool {
	for _, k := range generatedSelectorKeys {
		if _, ok := matchLabels[k]; ok {
			return true
		}
	}
	return false
}

// cronJob checks a CronJob.
func (c *checks) cronJob(cj *batchv1.CronJob) {
	s := &cj.Spec
	c.objectMeta(&cj.ObjectMeta, subdomainName)
	c.maxLength(cj.Name, maxCronJobNameLength, metadataPath.Child("name"), RuleName)
	c.schedule(s.Schedule, specPath.Child("schedule"))
	c.timeZone(s.TimeZone, specPath.Child("timeZone"))
	nonNegativeOptional(c, s.StartingDeadlineSeconds, specPath.Child("startingDeadlineSeconds"))
	nonNegativeOptional(c, s.SuccessfulJobsHistoryLimit, specPath.Child("successfulJobsHistoryLimit"))
	nonNegativeOptional(c, s.FailedJobsHistoryLimit, specPath.Child("failedJobsHistoryLimit"))
	switch s.ConcurrencyPolicy {
	case "", batchv1.AllowConcurrent, batchv1.ForbidConcurrent, batchv1.ReplaceConcurrent:
	default:
		unsupportedValue(c, specPath.Child("concurrencyPolicy"), RuleEnum, s.ConcurrencyPolicy,
			batchv1.AllowConcurrent, batchv1.ForbidConcurrent, batchv1.ReplaceConcurrent)
	}
	c.jobTemplate(&s.JobTemplate, specPath.Child("jobTemplate"))
}

// jobTemplate checks a CronJob's job template: a Job spec whose selector
// Kubernetes generates for each Job.
func (c *checks) jobTemplate(t *batchv1.JobTemplateSpec, path *field.Path) {
	c.templateMeta(&t.ObjectMeta, path.Child("metadata"))
	sp := path.Child("spec")
	c.jobSpec(&t.Spec, sp)
	if t.Spec.Selector != nil {
		c.invalid(sp.Child("selector"), RuleInvalid, t.Spec.Selector, "`selector` will be auto-generated")
	}
	if t.Spec.ManualSelector != nil && *t.Spec.ManualSelector {
		c.add(sp.Child("manualSelector"), RuleInvalid,
			field.NotSupported(sp.Child("manualSelector"), true, []string{"nil", "false"}))
	}
}

// schedule checks spec.schedule: standard five-field cron or a descriptor
// (@daily, @every 1h), parsed as the CronJob controller parses it, with no
// TZ=/CRON_TZ= prefix (spec.timeZone says that).
func (c *checks) schedule(s string, path *field.Path) {
	if s == "" {
		c.required(path, RuleRequired, "")
		return
	}
	if _, err := cron.ParseStandard(s); err != nil {
		c.invalid(path, RuleCronSchedule, s, err.Error())
	}
	if strings.Contains(s, "TZ") {
		c.invalid(path, RuleCronSchedule, s, "cannot use TZ or CRON_TZ in schedule, use timeZone field instead")
	}
}

// timeZoneComponent is the IANA naming rule for one component of a time
// zone name (upstream's validTimeZoneCharacters).
var timeZoneComponent = regexp.MustCompile(`^[A-Za-z\.\-_0-9+]{1,14}$`)

// timeZone checks spec.timeZone: unset, or an explicit IANA zone that
// loads.
func (c *checks) timeZone(tz *string, path *field.Path) {
	if tz == nil {
		return
	}
	if *tz == "" {
		c.invalid(path, RuleCronTimeZone, *tz, "timeZone must be nil or non-empty string")
		return
	}
	for _, part := range strings.Split(*tz, "/") {
		if part == "." || part == ".." || strings.HasPrefix(part, "-") || !timeZoneComponent.MatchString(part) {
			c.invalid(path, RuleCronTimeZone, *tz, "unknown time zone "+*tz)
			return
		}
	}
	if strings.EqualFold(*tz, "Local") {
		c.invalid(path, RuleCronTimeZone, *tz, "timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones")
		return
	}
	if _, err := time.LoadLocation(*tz); err != nil {
		c.invalid(path, RuleCronTimeZone, *tz, err.Error())
	}
}
