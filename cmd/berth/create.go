package main

import (
	"fmt"

	"github.com/spf13/cobra"
	batchv1 "k8s.io/api/batch/v1"

	"github.com/berth-io/berth/reconciler/api/printers"
	"github.com/berth-io/berth/reconciler/cronjob"
)

func newCreateCommand(env *clientEnv) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Create an object on the server: a job from a cronjob",
		Long: `Create an object on the server, as kubectl create does.

berth's objects come from Git; 'create' makes only what Git cannot say:
a Job that runs a CronJob now.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newCreateJobCommand(env))
	return cmd
}

func newCreateJobCommand(env *clientEnv) *cobra.Command {
	var (
		ns   namespaceFlags
		from string
	)
	cmd := &cobra.Command{
		Use:   "job NAME --from=cronjob/NAME",
		Short: "Create a job from a cronjob's job template, to run it now",
		Long: `Create a job from a cronjob's job template, to run it now, as
kubectl create job --from does: the template's labels and annotations,
the annotation cronjob.kubernetes.io/instantiate: manual, and the cronjob
as its owner (deleting the cronjob deletes the job).

Exit status: 0 created, 1 the cronjob is not found or the job exists,
2 usage or connection error.`,
		Example: `  berth create job backup-now --from=cronjob/backup
  berth create job report-1 --from=cj/report -n batch`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			if from == "" {
				return fail(cmd, 2, "--from=cronjob/NAME is required: berth creates jobs from cronjobs")
			}
			k, cronJobName, err := printers.ParseKindName(from)
			if err != nil {
				return fail(cmd, 2, "%v", err)
			}
			if k.Kind != "CronJob" {
				return fail(cmd, 2, "from must be an existing cronjob: %s", from)
			}
			c, err := env.client(cmd)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			obj, err := c.Get(ctx, k.Kind, ns.objectNamespace(k), cronJobName)
			if err != nil {
				return serverError(cmd, err, k, cronJobName)
			}
			cj, ok := obj.(*batchv1.CronJob)
			if !ok {
				return fail(cmd, 1, "the server returned a %T for cronjob %s", obj, cronJobName)
			}
			jobKind, err := printers.LookupKind("job")
			if err != nil {
				return fail(cmd, 1, "%v", err)
			}
			if _, err := c.Create(ctx, cronjob.JobFromCronJob(cj, name)); err != nil {
				return serverError(cmd, err, jobKind, "")
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s created\n", jobKind.Ref(name))
			return nil
		},
	}
	ns.add(cmd, false)
	cmd.Flags().StringVar(&from, "from", "", "the cronjob whose job template to run: cronjob/NAME")
	return cmd
}
