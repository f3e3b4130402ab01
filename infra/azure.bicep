// FileFerry on Azure: a Linux App Service running the bot, and the Azure Bot registration that
// points Teams at it. Deploy into a resource group:
//   az deployment group create -g <rg> -f infra/azure.bicep -p infra/azure.parameters.json \
//     -p botAadAppClientSecret=<secret>
// then push the code (e.g. `az webapp deploy --src-path fileferry.zip --type zip`).
// Not exercised by the tests (no Azure here); see infra/README.md.

@description('Prefix for every resource name; must be globally unique for the web app.')
@minLength(3)
param resourceBaseName string

@description('Client ID of the bot\'s Entra app registration (MicrosoftAppId).')
param botAadAppClientId string

@description('Client secret of that app registration (MicrosoftAppPassword). Stored as an app setting; prefer a Key Vault reference in production.')
@secure()
param botAadAppClientSecret string

@description('SingleTenant for new registrations (Azure no longer creates multi-tenant bots).')
@allowed([ 'SingleTenant', 'MultiTenant' ])
param botAppType string = 'SingleTenant'

param botAppTenantId string = subscription().tenantId
param botDisplayName string = 'FileFerry'
param webAppSku string = 'B1'
param location string = resourceGroup().location

resource plan 'Microsoft.Web/serverfarms@2022-09-01' = {
  name: resourceBaseName
  location: location
  kind: 'linux'
  sku: { name: webAppSku }
  properties: { reserved: true }
}

resource web 'Microsoft.Web/sites@2022-09-01' = {
  name: resourceBaseName
  location: location
  kind: 'app,linux'
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    siteConfig: {
      // Current Node LTS: the AWS SDK's releases after January 2027 need Node >= 22.
      linuxFxVersion: 'NODE|22-lts'
      alwaysOn: true // transfers run in-process and must not be stopped by idle unloading
      ftpsState: 'Disabled'
      minTlsVersion: '1.2'
      healthCheckPath: '/healthz'
      // Compiled by `npm run build` during deployment (Oryx runs it): ~40 MiB less RSS than tsx.
      appCommandLine: 'node --initial-old-space-size=64 --max-semi-space-size=1 --no-concurrent-array-buffer-sweeping --expose-gc dist/src/index.js' // flags: scripts/nodeFlags.js
      appSettings: [
        { name: 'NODE_ENV', value: 'production' }
        { name: 'MicrosoftAppId', value: botAadAppClientId }
        { name: 'MicrosoftAppPassword', value: botAadAppClientSecret }
        { name: 'MicrosoftAppType', value: botAppType }
        { name: 'MicrosoftAppTenantId', value: botAppTenantId }
        { name: 'SCM_DO_BUILD_DURING_DEPLOYMENT', value: 'true' }
      ]
    }
  }
}

resource bot 'Microsoft.BotService/botServices@2022-09-15' = {
  name: resourceBaseName
  location: 'global'
  kind: 'azurebot'
  sku: { name: 'F0' }
  properties: {
    displayName: botDisplayName
    endpoint: 'https://${web.properties.defaultHostName}/api/messages'
    msaAppId: botAadAppClientId
    msaAppType: botAppType
    msaAppTenantId: botAppTenantId
  }
}

resource teamsChannel 'Microsoft.BotService/botServices/channels@2022-09-15' = {
  parent: bot
  name: 'MsTeamsChannel'
  location: 'global'
  properties: { channelName: 'MsTeamsChannel' }
}

output messagingEndpoint string = bot.properties.endpoint
output botDomain string = web.properties.defaultHostName
