{
    sshAuthorizedKeys:: "YOUR_SSH_KEY",
    masterInstanceProfile:: "k8s-master",
    networkRegion:: "us-west-1",
    networkZone:: "us-west-1a",
    networkSubnet:: "10.99.0.0/24",
    token:: "TOKEN",
    podIPRange:: "10.244.0.0/16",
    masterIP: "MASTER_IP:6443",
}
