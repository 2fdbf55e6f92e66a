import { X509Certificate } from 'node:crypto';
import { certWithSans } from './helpers/san-cert.js';
import { sanIdentities } from '../../../src/tls/peer-identity.js';
const der = certWithSans(['email:a@b.c', 'URI:spiffe://td/ns/a,b/sa/c', 'DNS:Foo.Example.', 'DNS:*.wild.example', 'IP:10.0.0.1', 'DNS:Bar.example', 'URI:not a uri', 'otherName:1.2.3.4;UTF8:hello', 'RID:1.2.3.4']);
console.log(new X509Certificate(der).subjectAltName);
console.log(sanIdentities(der));
