export {
  deleteConnection,
  findConnection,
  listConnections,
  readConnectionCredential,
  saveConnection,
} from './store';
