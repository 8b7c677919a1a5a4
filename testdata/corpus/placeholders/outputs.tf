output "deploy_token" {
  value = data.kubernetes_secret.deploy.data.token
  sensitive = true
}
