"""DynamoDB repositories: the only code that talks to boto3. Items map to models here, in one place."""
