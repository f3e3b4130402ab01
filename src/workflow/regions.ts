/**
 * The clouds and regions the request form offers. Kept as plain lists so validation never calls a
 * cloud API. AWS: the commercial regions; Azure: the common public locations.
 */
export const CLOUDS = ['AWS', 'Azure'] as const;
export type Cloud = (typeof CLOUDS)[number];

export const REGIONS: Record<Cloud, readonly string[]> = {
  AWS: [
    'us-east-1', 'us-east-2', 'us-west-1', 'us-west-2', 'ca-central-1', 'ca-west-1', 'sa-east-1', 'mx-central-1',
    'eu-central-1', 'eu-central-2', 'eu-west-1', 'eu-west-2', 'eu-west-3', 'eu-north-1', 'eu-south-1', 'eu-south-2',
    'me-south-1', 'me-central-1', 'il-central-1', 'af-south-1',
    'ap-east-1', 'ap-south-1', 'ap-south-2', 'ap-southeast-1', 'ap-southeast-2', 'ap-southeast-3', 'ap-southeast-4',
    'ap-southeast-5', 'ap-southeast-7', 'ap-northeast-1', 'ap-northeast-2', 'ap-northeast-3',
  ],
  Azure: [
    'eastus', 'eastus2', 'centralus', 'northcentralus', 'southcentralus', 'westus', 'westus2', 'westus3',
    'canadacentral', 'canadaeast', 'brazilsouth', 'northeurope', 'westeurope', 'uksouth', 'ukwest', 'francecentral',
    'germanywestcentral', 'switzerlandnorth', 'norwayeast', 'swedencentral', 'polandcentral', 'italynorth',
    'uaenorth', 'southafricanorth', 'centralindia', 'southindia', 'eastasia', 'southeastasia', 'japaneast',
    'japanwest', 'koreacentral', 'australiaeast', 'australiasoutheast',
  ],
};

export const ENVIRONMENTS = ['PROD', 'QA', 'UAT', 'DEV'] as const;

/** ServiceNow's priority scale. */
export const PRIORITIES: readonly { value: string; title: string }[] = [
  { value: '1', title: '1 - Critical' },
  { value: '2', title: '2 - High' },
  { value: '3', title: '3 - Moderate' },
  { value: '4', title: '4 - Low' },
];
