// FileFerry's Cosmos DB store (FILEFERRY_STORE=cosmos): a serverless NoSQL account, the database
// and the four containers src/adapters/store/cosmosContainers.ts describes. FileFerry never
// creates them itself. Deploy into a resource group:
//   az deployment group create -g <rg> -f infra/cosmos.bicep \
//     -p accountName=<globally unique name> dataContributorPrincipalId=<object id of FileFerry's identity>
// then set COSMOS_ENDPOINT to the `endpoint` output and COSMOS_DATABASE to the `database` output.
// Not deployed by the tests (no Azure here): test/unit/infraCosmos.test.ts checks that the
// container names and partition keys below are the ones the stores use.

@description('Cosmos DB account name: 3-44 lower-case letters, digits and dashes, globally unique.')
@minLength(3)
@maxLength(44)
param accountName string

param location string = resourceGroup().location

@description('The database FileFerry uses (COSMOS_DATABASE).')
param databaseName string = 'fileferry'

@description('Days a request item lives after its last write (Cosmos TTL on the requests container); 0 keeps requests forever. The audit and host key containers never expire.')
@minValue(0)
param requestTtlDays int = 90

@description('Object ID of the identity FileFerry runs as (e.g. the web app\'s managed identity). It gets the Cosmos DB Built-in Data Contributor role (data plane only). Empty: no role assignment.')
param dataContributorPrincipalId string = ''

@description('true: Entra ID only, the account keys do not work (recommended). false: FileFerry may also sign with an account key given by COSMOS_KEY_REF (keep it in Key Vault).')
param disableLocalAuth bool = true

@allowed([ 'Enabled', 'Disabled' ])
@description('Disabled: reachable through a private endpoint only (add one separately).')
param publicNetworkAccess string = 'Enabled'

resource account 'Microsoft.DocumentDB/databaseAccounts@2024-11-15' = {
  name: accountName
  location: location
  kind: 'GlobalDocumentDB'
  properties: {
    databaseAccountOfferType: 'Standard'
    // Single region (serverless accounts are); FileFerry's client runs without endpoint discovery.
    locations: [
      {
        locationName: location
        failoverPriority: 0
        isZoneRedundant: false
      }
    ]
    capabilities: [
      { name: 'EnableServerless' }
    ]
    consistencyPolicy: { defaultConsistencyLevel: 'Session' }
    disableLocalAuth: disableLocalAuth
    // Keys (where enabled) reach data only: no database or container can be created or changed
    // with them, so containers and partition keys stay as deployed here.
    disableKeyBasedMetadataWriteAccess: true
    minimalTlsVersion: 'Tls12'
    publicNetworkAccess: publicNetworkAccess
  }
}

resource database 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases@2024-11-15' = {
  parent: account
  name: databaseName
  properties: {
    resource: { id: databaseName }
  }
}

// Request records, one item per request: id = the request ID, which is also the partition key.
resource requestsContainer 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers@2024-11-15' = {
  parent: database
  name: 'requests'
  properties: {
    resource: {
      id: 'requests'
      partitionKey: {
        paths: [ '/id' ]
        kind: 'Hash'
        version: 2
      }
      // Seconds after an item's last write; -1 turns TTL on with no default expiry (nothing expires).
      defaultTtl: requestTtlDays > 0 ? requestTtlDays * 86400 : -1
    }
  }
}

// The hash-chained audit log: one partition per chain; record n of chain c has id
// 'c:<n, 12 digits>', so two writers of one seq collide on the id (409) and the chain cannot
// fork. No unique key policy (the id already collides) and no TTL: records are kept.
resource auditContainer 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers@2024-11-15' = {
  parent: database
  name: 'audit'
  properties: {
    resource: {
      id: 'audit'
      partitionKey: {
        paths: [ '/chain' ]
        kind: 'Hash'
        version: 2
      }
    }
  }
}

// Confirmed SFTP host keys: id = '<host>:<port>', also the partition key. The first key wins.
resource hostKeysContainer 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers@2024-11-15' = {
  parent: database
  name: 'hostKeys'
  properties: {
    resource: {
      id: 'hostKeys'
      partitionKey: {
        paths: [ '/id' ]
        kind: 'Hash'
        version: 2
      }
    }
  }
}

// The DocumentStore (idempotency keys, queued records, push claims …): one partition per
// collection; item id = SHA-256 (hex) of the document id, which the item keeps in docId. TTL is
// on with no default (-1): only a document written with an expiry carries a `ttl` and goes.
resource documentsContainer 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers@2024-11-15' = {
  parent: database
  name: 'documents'
  properties: {
    resource: {
      id: 'documents'
      partitionKey: {
        paths: [ '/collection' ]
        kind: 'Hash'
        version: 2
      }
      defaultTtl: -1
    }
  }
}

// Cosmos DB Built-in Data Contributor: read and write items, read metadata; no control plane.
var dataContributorRoleId = '00000000-0000-0000-0000-000000000002'

resource dataContributor 'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments@2024-11-15' = if (!empty(dataContributorPrincipalId)) {
  parent: account
  name: guid(account.id, dataContributorPrincipalId, dataContributorRoleId)
  properties: {
    roleDefinitionId: '${account.id}/sqlRoleDefinitions/${dataContributorRoleId}'
    principalId: dataContributorPrincipalId
    scope: account.id
  }
}

// No key is ever an output: with keys enabled, put one in Key Vault yourself
// (az cosmosdb keys list ...) and point COSMOS_KEY_REF at it.
output endpoint string = account.properties.documentEndpoint
output database string = database.name
