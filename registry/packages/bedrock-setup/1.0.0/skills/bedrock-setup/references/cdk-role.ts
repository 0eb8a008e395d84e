// A role developers assume (through IAM Identity Center) to run Claude Code on Bedrock.
// Both invoke actions: without InvokeModelWithResponseStream Claude Code hangs with no error.
import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

export class ClaudeCodeBedrockAccess extends Construct {
  readonly policy: iam.ManagedPolicy;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    const account = Stack.of(this).account;
    this.policy = new iam.ManagedPolicy(this, 'Policy', {
      description: 'Claude Code on Amazon Bedrock: invoke (with streaming) and list profiles',
      statements: [
        new iam.PolicyStatement({
          actions: ['bedrock:InvokeModel', 'bedrock:InvokeModelWithResponseStream'],
          resources: [
            'arn:aws:bedrock:*::foundation-model/anthropic.claude-*',
            `arn:aws:bedrock:*:${account}:inference-profile/*anthropic.claude-*`,
            `arn:aws:bedrock:*:${account}:application-inference-profile/*`,
          ],
        }),
        new iam.PolicyStatement({
          actions: ['bedrock:ListInferenceProfiles', 'bedrock:GetInferenceProfile'],
          resources: ['*'],
        }),
      ],
    });
  }
}
