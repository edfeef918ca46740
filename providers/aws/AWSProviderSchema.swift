/// Resource types of the `aws` provider.

import ProviderKit

enum AWSProviderSchema {
    static let provider = ProviderSchema(provider: "aws", resources: [
    ])
}
