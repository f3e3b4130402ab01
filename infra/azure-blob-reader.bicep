// Grants a user or group read-only access to one storage account's blobs for FileFerry's Entra
// sign-in: the built-in role Storage Blob Data Reader, and nothing that writes.
@description('The storage account FILEFERRY_AZURE_STORAGE_ACCOUNTS maps a location to.')
param storageAccountName string

@description('Object ID of the Entra user or group allowed to request transfers from it.')
param principalId string

@allowed([ 'User', 'Group' ])
param principalType string = 'Group'

// Storage Blob Data Reader (built-in): read and list containers and blobs.
var storageBlobDataReader = '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1'

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource readerAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(account.id, principalId, storageBlobDataReader)
  scope: account
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataReader)
    principalId: principalId
    principalType: principalType
  }
}
