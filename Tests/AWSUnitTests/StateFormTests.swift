import Foundation
import ProviderKit
import Testing
@testable import AWSProvider

/// What create and update record, and the form desired attributes are planned in, so plan after apply is a no-op.
@Suite struct StateFormTests {
    @Test func alarmRequestsCarryTheMetricMathShape() {
        let config: [String: AttributeValue] = [
            "alarm_name": "a", "comparison_operator": "GreaterThanThreshold", "evaluation_periods": 5, "threshold": .double(90),
            "metrics": .list([
                .map(["id": "m1", "return_data": false, "metric_stat": .map(["period": 60, "stat": "Average",
                      "metric": .map(["namespace": "AWS/EC2", "metric_name": "CPUUtilization", "dimensions": .map(["InstanceId": "i-1"])])])]),
                .map(["id": "cluster", "expression": "MAX(METRICS())", "return_data": true]),
            ]),
        ]
        let body = CloudWatchAlarmResource.request(config)
        #expect(AttributeValue.map(body).canonicalJSON(indent: nil) == #"{"AlarmName":"a","ComparisonOperator":"GreaterThanThreshold","#
            + #""EvaluationPeriods":5,"Metrics":[{"Id":"m1","MetricStat":{"Metric":{"Dimensions":[{"Name":"InstanceId","Value":"i-1"}],"#
            + #""MetricName":"CPUUtilization","Namespace":"AWS/EC2"},"Period":60,"Stat":"Average"},"ReturnData":false},"#
            + #"{"Expression":"MAX(METRICS())","Id":"cluster","ReturnData":true}],"Threshold":90.0}"#)
        // And back from DescribeAlarms to the schema's shape.
        #expect(.list((body["Metrics"]?.listValue ?? []).map(CloudWatchAlarmResource.metricAttribute)) == config["metrics"])
    }

    @Test func recordedStateHoldsWhatTheStackSetAndTheComputedAttributes() {
        let state = ResourceState(id: "n", attributes: ["alarm_name": "n", "arn": "arn:x", "ok_actions": .list([]), "treat_missing_data": .null])
        let out = AWSProvider.recorded(state, ["alarm_name": "n", "threshold": .double(1)], "aws.cloudwatch_alarm")
        #expect(out.attributes == ["alarm_name": "n", "arn": "arn:x", "threshold": .double(1)])
    }

    @Test func bucketSettingsTakeTheFormS3Reports() {
        let desired = AWSProvider.readForm("s3_bucket", [
            "public_access_block": .map(["block_public_acls": true]),
            "lifecycle_rules": .list([.map(["id": "r", "status": "Enabled", "expiration": .map(["days": 30])])]),
        ])
        #expect(desired["public_access_block"] == .map(["block_public_acls": true, "ignore_public_acls": false,
                                                        "block_public_policy": false, "restrict_public_buckets": false]))
        #expect(desired["lifecycle_rules"] == .list([.map(["id": "r", "status": "Enabled", "filter": .map(["prefix": ""]),
                                                           "expiration": .map(["days": 30])])]))
    }
}
