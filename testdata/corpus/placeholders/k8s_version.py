def main():
    Token = "xxx"
    # Create a configuration object
    APISERVER = "xxx"

    configuration = client.Configuration()
    # Specify the endpoint of your Kube cluster
    configuration.host = APISERVER
